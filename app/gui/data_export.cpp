#include "app/gui/data_export.h"

#include <QFile>
#include <QFileInfo>
#include <QSvgGenerator>
#include <QTextStream>
#include <nlohmann/json.hpp>
#include <qcustomplot.h>

#include "app/gui/explorer_document.h"
#include "core/cluster/tree.h"
#include "core/error.h"

namespace moe {
namespace gui {
namespace {

void writeText(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size())
    throw moe::Error(moe::ErrorKind::Io, "cannot write " + path.toStdString() + ": " + f.errorString().toStdString());
}

}  // namespace

void saveFigure(QCustomPlot* plot, const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  bool ok = false;
  if (suffix == "pdf") {
    ok = plot->savePdf(path);
  } else if (suffix == "svg") {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(plot->size());
    svg.setViewBox(plot->rect());
    svg.setTitle(QStringLiteral("MoEScope"));
    QCPPainter painter;
    ok = painter.begin(&svg);
    if (ok) {
      plot->toPainter(&painter, plot->width(), plot->height());
      ok = painter.end();
    }
  } else if (suffix == "png") {
    ok = plot->savePng(path, 0, 0, 2.0);
  } else {
    // Never write one format under another's name.
    throw moe::Error(moe::ErrorKind::InvalidArgument,
                     "unsupported figure format \"" + suffix.toStdString() + "\" (use .png, .svg or .pdf)");
  }
  if (!ok) throw moe::Error(moe::ErrorKind::Io, "cannot write " + path.toStdString());
}

void saveDistancesCsv(const ExplorerDocument& doc, int j, const QString& path) {
  const moe::Matrix& d = doc.distances(j);
  QByteArray out = "expert";
  for (int64_t c = 0; c < d.cols; ++c) out += "," + QByteArray::number(static_cast<qlonglong>(c));
  out += "\n";
  for (int64_t r = 0; r < d.rows; ++r) {
    out += QByteArray::number(static_cast<qlonglong>(r));
    for (int64_t c = 0; c < d.cols; ++c) out += "," + QByteArray::number(d(r, c), 'g', 17);
    out += "\n";
  }
  writeText(path, out);
}

void saveGroupsJson(const ExplorerDocument& doc, const QString& path) {
  nlohmann::json layers = nlohmann::json::array();
  for (int j = 0; j < doc.numMoeLayers(); ++j) {
    // The strategy's groups (REAM's centroid groups, pruning's kept experts), as the merge makes them.
    const auto& of = doc.mergeGroups(j);
    std::vector<std::vector<int64_t>> groups(static_cast<size_t>(doc.k(j)));
    std::vector<int64_t> dropped;
    for (size_t e = 0; e < of.size(); ++e)
      (of[e] < 0 ? dropped : groups.at(static_cast<size_t>(of[e]))).push_back(static_cast<int64_t>(e));
    nlohmann::json layer = {{"moe_block", j}, {"layer", doc.stats(j).layer}, {"experts", doc.stats(j).numExperts},
                            {"k", doc.k(j)}, {"groups", groups}};
    if (!dropped.empty()) layer["dropped"] = dropped;
    layers.push_back(layer);
  }
  const nlohmann::json out = {{"analysis", doc.analysis().storePath}, {"plan", doc.plan().toJson()}, {"layers", layers}};
  writeText(path, QByteArray::fromStdString(out.dump(2) + "\n"));
}

void saveNewick(const ExplorerDocument& doc, int j, const QString& path) {
  std::vector<std::string> names;
  for (int64_t e = 0; e < doc.stats(j).numExperts; ++e) names.push_back("expert_" + std::to_string(e));
  writeText(path, QByteArray::fromStdString(moe::toNewick(doc.tree(j).linkage, names) + "\n"));
}

}  // namespace gui
}  // namespace moe
