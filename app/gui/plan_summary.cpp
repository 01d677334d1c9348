#include "app/gui/plan_summary.h"

#include <QTimer>

#include "app/gui/explorer_document.h"
#include "app/gui/retranslate.h"

namespace moe {
namespace gui {

PlanSummary::PlanSummary(ExplorerDocument* doc, QWidget* parent) : QLabel(parent), doc_(doc) {
  setTextFormat(Qt::RichText);
  setAlignment(Qt::AlignTop | Qt::AlignLeft);
  setWordWrap(true);
  setMargin(10);
  setTextInteractionFlags(Qt::TextSelectableByMouse);
  connect(doc_, &ExplorerDocument::planChanged, this, &PlanSummary::refresh);
  connect(doc_, &ExplorerDocument::analysisChanged, this, &PlanSummary::refresh);
  // Results and status changes come in bursts: one refresh per 30 ms for any number of them.
  auto* coalesce = new QTimer(this);
  coalesce->setSingleShot(true);
  coalesce->setInterval(30);
  connect(coalesce, &QTimer::timeout, this, &PlanSummary::refresh);
  connect(doc_, &ExplorerDocument::errorsChanged, coalesce, [coalesce] {
    if (!coalesce->isActive()) coalesce->start();
  });
  onLanguageChange(this, [this] { refresh(); });
}

void PlanSummary::refresh() {
  if (!doc_->hasAnalysis()) {
    clear();
    return;
  }
  const AnalysisData& d = doc_->analysis();
  int64_t kept = 0, total = 0;
  bool uniform = true;
  for (int j = 0; j < doc_->numMoeLayers(); ++j) {
    kept += doc_->k(j);
    total += doc_->stats(j).numExperts;
    uniform = uniform && doc_->k(j) == doc_->k(0);
  }
  const QString row = QStringLiteral("<tr><td style='padding-right:14px'>%1</td><td><b>%2</b></td></tr>");
  QString html = "<table cellspacing='3'>";
  html += row.arg(tr("Experts kept"), tr("%1 of %2 (%3 %)").arg(kept).arg(total).arg(100.0 * kept / std::max<int64_t>(total, 1), 0, 'f', 0));
  if (d.memory.known) {
    const double after = doc_->memoryAfterPlan();
    html += row.arg(tr("Model size"), tr("%1 \u2192 %2 (\u2212%3 %)")
                                          .arg(QString::fromStdString(formatBytes(d.memory.totalBytes)),
                                               QString::fromStdString(formatBytes(after)))
                                          .arg(100.0 * (1 - after / d.memory.totalBytes), 0, 'f', 1));
  }
  const bool exact = doc_->planErrorsExact();
  const double err = doc_->meanError(exact);
  if (err >= 0)
    html += row.arg(exact ? tr("Output error (mean, tied)") : tr("Output error (estimate)"),
                    (exact ? QString() : QStringLiteral("\u2248")) + QString::number(err, 'f', 3));
  html += row.arg(tr("Export format"), uniform ? tr("compact (K = %1 everywhere)").arg(doc_->k(0))
                                               : tr("expert map (K per layer)"));
  const PlanState& p = doc_->plan();
  const QString linkage[] = {tr("Single"), tr("Complete"), tr("Average"), tr("Ward")};
  const QString representation[] = {tr("Expert output"), tr("Expert output (routed)"), tr("Router logits"),
                                    tr("Weights")};
  html += row.arg(tr("Clustering"), tr("%1 linkage \u00b7 %2 \u00b7 %3")
                                        .arg(linkage[static_cast<int>(p.linkage)],
                                             representation[static_cast<int>(p.representation)],
                                             p.metric == "cosine" ? tr("Cosine") : tr("Euclidean")));
  html += "</table>";
  setText(html);
}

}  // namespace gui
}  // namespace moe
