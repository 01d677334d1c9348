#include "app/gui/export_dialog.h"

#include <QComboBox>
#include <algorithm>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include "app/gui/explorer_document.h"
#include "app/gui/export_defaults.h"
#include "app/gui/merge_plan_builder.h"
#include "app/gui/plan_alignment.h"
#include "core/error.h"

namespace moe {
namespace gui {
namespace {

const std::vector<moe::RouterMode>& routerModes() {
  static const std::vector<moe::RouterMode> modes = {moe::RouterMode::Average, moe::RouterMode::FrequencyWeighted,
                                                     moe::RouterMode::LseFit, moe::RouterMode::SoftFit,
                                                     moe::RouterMode::TiedFit};
  return modes;
}

bool uniformK(const ExplorerDocument& doc) {
  for (int j = 0; j < doc.numMoeLayers(); ++j)
    if (doc.k(j) != doc.k(0)) return false;
  return true;
}

QString metricsMarkdown(const ExplorerDocument& doc) {
  const bool exact = doc.planErrorsExact();
  QString md = exact ? "| MoE block | layer | experts | K | output error (tied) | output error (compact) |\n"
                       "|---|---|---|---|---|---|\n"
                     : "| MoE block | layer | experts | K | output error (estimate) |\n|---|---|---|---|---|\n";
  for (int j = 0; j < doc.numMoeLayers(); ++j) {
    md += QString("| %1 | %2 | %3 | %4 | %5 |")
              .arg(j)
              .arg(doc.stats(j).layer)
              .arg(doc.stats(j).numExperts)
              .arg(doc.k(j))
              .arg(doc.layerError(j) >= 0 ? QString::number(doc.layerError(j), 'f', 4) : QString("n/a"));
    if (exact) md += QString(" %1 |").arg(doc.exactLayerError(j)->compact, 0, 'f', 4);
    md += "\n";
  }
  md += exact ? "\nOutput error: relative L2 error ||merged(x) - original(x)|| / ||original(x)|| of each MoE block on "
                "the calibration tokens; tied keeps the router and maps every expert to its group's merged weights, "
                "compact has one averaged router row per group.\n"
              : "\nThe output error is MoEScope's estimate: the usage-weighted relative error of replacing each "
                "expert's mean output on the calibration tokens by its group's frequency-weighted mean output.\n";
  return md;
}

}  // namespace

ExportRequest makeExportRequest(const ExplorerDocument& doc, moe::ExportFormat format, moe::RouterMode router,
                                const QString& target, qint64 shardBytes) {
  ExportRequest r;
  r.modelDir = QString::fromStdString(doc.analysis().info.modelDir);
  r.target = target;
  r.shardBytes = shardBytes;
  r.plan = toMergePlan(doc.analysis(), doc.plan(), doc.derived());
  r.plan.format = format;
  for (auto& lp : r.plan.layers) lp.router = router;
  // Fitted routers and neuron alignment both run on the analysis' own calibration tokens.
  if ((format == moe::ExportFormat::Compact && moe::isFittedRouter(router) && !moe::isPruneStrategy(doc.plan().strategy)) ||
      planAsksForAlignment(r.plan)) {
    r.calibTokens = doc.analysis().info.tokenIds;
    r.calibShape = doc.analysis().info.tokenShape;
  }
  if (format == moe::ExportFormat::Compact && !uniformK(doc))
    throw moe::Error(moe::ErrorKind::InvalidArgument,
                     "the compact format needs the same K in every layer; use the expert-map format or a uniform plan");
  if (format == moe::ExportFormat::ExpertMap && moe::isPruneStrategy(doc.plan().strategy))
    throw moe::Error(moe::ErrorKind::InvalidArgument, "pruned plans can only be exported in the compact format");
  r.plan.validate();
  r.metricsMarkdown = metricsMarkdown(doc);
  return r;
}

ExportDialog::ExportDialog(const ExplorerDocument& doc, QWidget* parent) : QDialog(parent), doc_(doc) {
  setWindowTitle(tr("Export Merged Model"));
  auto* form = new QFormLayout;
  format_ = new QComboBox(this);
  format_->addItem(tr("Compact: K experts per layer, loads in stock transformers"));
  format_->addItem(tr("Expert map: original router, K per layer (the paper's tied model)"));
  auto* items = qobject_cast<QStandardItemModel*>(format_->model());
  const bool uniform = uniformK(doc);
  const bool prune = moe::isPruneStrategy(doc.plan().strategy);
  items->item(0)->setEnabled(uniform);
  items->item(1)->setEnabled(!prune);
  format_->setCurrentIndex(uniform ? 0 : 1);
  form->addRow(tr("Format:"), format_);
  router_ = new QComboBox(this);
  // Order = routerModes() below. Fitted routers run the analysis' calibration tokens through the
  // model before writing; the checkpoint still has a plain router.
  router_->addItem(tr("Average of the member rows"));
  router_->addItem(tr("Usage-weighted average of the member rows"));
  router_->addItem(tr("Fitted: logsumexp of member logits (lse-fit)"));
  router_->addItem(tr("Fitted: soft routing targets (soft-fit)"));
  router_->addItem(tr("Fitted: imitate the tied model, layer by layer (tied-fit)"));
  router_->setToolTip(tr("How the compact model's router row of each group is built. Fitted routers are trained on "
                         "the analysis' calibration tokens (slower export, usually closer to the original)."));
  const auto& modes = routerModes();
  router_->setCurrentIndex(static_cast<int>(std::find(modes.begin(), modes.end(), defaultCompactRouter()) - modes.begin()));
  form->addRow(tr("Compact router:"), router_);
  const QString modelDir = QString::fromStdString(doc.analysis().info.modelDir);
  const QString suggestion = defaultExportFolder(
      modelDir, QFileInfo(modelDir).fileName() + (uniform ? QString("-merged-k%1").arg(doc.k(0)) : QString("-merged")));
  target_ = new QLineEdit(QDir::toNativeSeparators(suggestion), this);
  auto* browse = new QPushButton(tr("Browse\u2026"), this);
  auto* row = new QWidget(this);
  auto* rowLayout = new QHBoxLayout(row);
  rowLayout->setContentsMargins(0, 0, 0, 0);
  rowLayout->addWidget(target_, 1);
  rowLayout->addWidget(browse);
  form->addRow(tr("Output folder:"), row);
  shard_ = new QSpinBox(this);
  shard_->setRange(1, 100000);
  shard_->setValue(5000);
  shard_->setSuffix(tr(" MB"));
  form->addRow(tr("Shard size:"), shard_);
  precision_ = new QComboBox(this);
  precision_->addItem(tr("As the source (FP8 / MXFP4 stay quantized)"));
  precision_->addItem(tr("BF16"));
  precision_->setToolTip(tr("A quantized source keeps its encoding: unmerged experts are copied byte for byte and "
                            "merged ones re-quantized with the same scheme. BF16 dequantizes everything, for runtimes "
                            "without FP8 / MXFP4 kernels (about twice the size of FP8)."));
  form->addRow(tr("Precision:"), precision_);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  form->addRow(tr("Result:"), summary_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Export"));
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);
  setMinimumWidth(600);
  connect(buttons, &QDialogButtonBox::accepted, this, &ExportDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString d = QFileDialog::getSaveFileName(this, tr("Output Folder"), target_->text(), QString(), nullptr,
                                                   QFileDialog::ShowDirsOnly);
    if (!d.isEmpty()) target_->setText(d);
  });
  connect(format_, qOverload<int>(&QComboBox::currentIndexChanged), this, &ExportDialog::updateSummary);
  updateSummary();
}

void ExportDialog::updateSummary() {
  // The expert map keeps the original router; pruned plans keep their experts' own rows.
  router_->setEnabled(format_->currentIndex() == 0 && !moe::isPruneStrategy(doc_.plan().strategy));
  QStringList ks;
  for (int j = 0; j < doc_.numMoeLayers(); ++j) ks << QString::number(doc_.k(j));
  QString text = tr("K per layer: %1").arg(ks.join(", "));
  if (doc_.analysis().memory.known)
    text += "\n" + tr("About %1 (from %2)")
                       .arg(QString::fromStdString(formatBytes(doc_.memoryAfterPlan())),
                            QString::fromStdString(formatBytes(doc_.analysis().memory.totalBytes)));
  summary_->setText(text);
}

ExportRequest ExportDialog::request() const {
  ExportRequest r =
      makeExportRequest(doc_, format_->currentIndex() == 0 ? moe::ExportFormat::Compact : moe::ExportFormat::ExpertMap,
                        routerModes()[static_cast<size_t>(router_->currentIndex())],
                        QDir::fromNativeSeparators(target_->text()), static_cast<qint64>(shard_->value()) * 1'000'000);
  r.bf16 = precision_->currentIndex() == 1;
  return r;
}

void ExportDialog::accept() {
  try {
    (void)request();
  } catch (const std::exception& e) {  // moe::Error, and anything else building the plan may throw
    QMessageBox::warning(this, tr("Cannot export this plan"), QString::fromStdString(e.what()));
    return;
  }
  QDialog::accept();
}

}  // namespace gui
}  // namespace moe
