#include "app/gui/explorer_view.h"

#include <algorithm>

#include <QComboBox>
#include <QDataStream>
#include <QHBoxLayout>
#include <QIntValidator>
#include <QIODevice>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QToolButton>

#include "app/gui/explorer_document.h"
#include "app/gui/layer_error_status.h"
#include "app/gui/measure_worker.h"
#include "app/gui/merge_plan_builder.h"
#include "app/gui/panel.h"
#include "app/gui/parallel_for.h"
#include "app/gui/plan_alignment.h"
#include "app/gui/plan_summary.h"
#include "app/gui/rate_limited_action.h"
#include "app/gui/retranslate.h"
#include "widgets/dendrogram_view.h"
#include "widgets/heatmap_view.h"
#include "widgets/layer_metrics.h"
#include "widgets/layer_overview.h"
#include "widgets/layer_table.h"
#include "widgets/tradeoff_plot.h"
#include "widgets/usage_chart.h"
#include "widgets/view_controls.h"

namespace moe {
namespace gui {

ExplorerView::ExplorerView(ExplorerDocument* doc, QWidget* parent) : QWidget(parent), doc_(doc) {
  createViews();
  createPanels();
  createMeasureControls();
  arrangePanels();
  connectDocument();
  followLanguage();
}

// The five plots and the table.
void ExplorerView::createViews() {
  table_ = new widgets::LayerTable(this);
  dendrogram_ = new widgets::DendrogramView(this);
  heatmap_ = new widgets::HeatmapView(this);
  usage_ = new widgets::UsageChart(this);
  tradeoff_ = new widgets::TradeoffPlot(this);
  overview_ = new widgets::LayerOverview(this);
  dendrogram_->setToolTip(QString());
}

// Each view in a titled panel with its header controls; the exact-error status above the table.
void ExplorerView::createPanels() {
  tablePanel_ = new Panel(tr("Layers"), table_, this);
  errorStatus_ = new LayerErrorStatus(doc_->errorService(), this);
  tablePanel_->addHeaderWidget(errorStatus_);
  linkedRefresh_ = new RateLimitedAction(100, [this] { refreshLinkedViews(); }, this);
  errorRefresh_ = new RateLimitedAction(
      RateLimitedAction::kResultBurstMs,
      [this] {
        if (proxyDirty_) refreshTradeoff();  // refreshes the errors too
        else refreshErrors();
      },
      this);
  connect(doc_, &ExplorerDocument::errorsChanged, this, &ExplorerView::scheduleErrorRefresh);
  summaryPanel_ = new Panel(tr("Plan"), new PlanSummary(doc_, this), this);
  treePanel_ = new Panel(tr("Dendrogram"), dendrogram_, this);
  heatPanel_ = new Panel(tr("Expert distances"), heatmap_, this);
  usagePanel_ = new Panel(tr("Usage and REAP"), usage_, this);
  usagePanel_->addHeaderWidget(new widgets::UsageChartControls(usage_, this));
  overviewPanel_ = new Panel(tr("All layers"), overview_, this);
  tradeoffPanel_ = new Panel(tr("Trade-off"), tradeoff_, this);

  kLabel_ = new QLabel(tr("K"), this);
  layerK_ = new QSpinBox(this);
  layerK_->setToolTip(tr("Clusters kept in this layer (drag the red cut line to change it)"));
  layerK_->setKeyboardTracking(false);
  resetK_ = new QToolButton(this);
  resetK_->setText(tr("Reset"));
  resetK_->setToolTip(tr("Use the global allocation for this layer again"));
  resetK_->setAutoRaise(true);
  treePanel_->addHeaderWidget(kLabel_);
  treePanel_->addHeaderWidget(layerK_);
  treePanel_->addHeaderWidget(resetK_);
  // Large trees: find an expert, fit, fold the clusters, turn the tree on its side.
  auto* find = new QLineEdit(this);
  find->setPlaceholderText(tr("Find expert"));
  find->setValidator(new QIntValidator(0, 1 << 20, find));
  find->setMaximumWidth(find->fontMetrics().horizontalAdvance(QStringLiteral("Find expert__")));
  find->setToolTip(tr("Type an expert id and press Enter: its cluster unfolds and the view zooms to it"));
  connect(find, &QLineEdit::returnPressed, this, [this, find] {
    const bool found = dendrogram_->revealExpert(find->text().toLongLong());
    find->setStyleSheet(found ? QString() : QStringLiteral("color: red"));
  });
  treePanel_->addHeaderWidget(find);
  for (QAction* a : {dendrogram_->fitAction(), dendrogram_->foldAllAction(), dendrogram_->horizontalAction()}) {
    auto* b = new QToolButton(this);
    b->setDefaultAction(a);
    treePanel_->addHeaderWidget(b);
  }
  order_ = new QComboBox(this);
  order_->addItem(tr("Dendrogram order"));
  order_->addItem(tr("Expert order"));
  order_->setToolTip(tr("Order of the rows and columns"));
  heatMode_ = new QComboBox(this);
  heatMode_->addItem(tr("Distance"));
  heatMode_->addItem(tr("Cosine similarity"));
  heatMode_->setToolTip(tr("Show the distances the clustering uses, or the cosine similarity of the same "
                           "representation (view only: the plan does not change)"));
  heatPanel_->addHeaderWidget(heatMode_);
  heatPanel_->addHeaderWidget(order_);
  heatPanel_->addHeaderWidget(new widgets::HeatmapControls(heatmap_, this));
}

// "Measure perplexity / KL" in the trade-off panel: button, progress and result.
void ExplorerView::createMeasureControls() {
  measureResult_ = new QLabel(this);
  measureResult_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  measureProgress_ = new QProgressBar(this);
  measureProgress_->setMaximumWidth(90);
  measureProgress_->setMaximumHeight(14);
  measureProgress_->setTextVisible(false);
  measureProgress_->hide();
  measure_ = new QToolButton(this);
  measure_->setText(tr("Measure perplexity / KL"));
  measure_->setToolTip(tr("Perplexity and KL(original || merged) of the current plan on held-out text, tied and "
                          "compact (text and size in Settings)"));
  measurer_ = new MeasureRunner(this);
  yAxis_ = new QComboBox(this);
  yAxis_->addItems({tr("output error"), tr("top-1 agreement"), tr("generation agreement (ROUGE-L)"),
                    tr("identical prefix")});
  yAxis_->setToolTip(tr("The y axis: the uniform plans' output error, or an agreement with the original "
                        "measured for plans (Measure perplexity / KL)"));
  connect(yAxis_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    curveDirty_ = true;
    refreshErrors();
    if (measured_) showMeasurement();  // the marker's text, hidden while an agreement axis was shown
  });
  tradeoffPanel_->addHeaderWidget(yAxis_);
  tradeoffPanel_->addHeaderWidget(measureResult_);
  tradeoffPanel_->addHeaderWidget(measureProgress_);
  tradeoffPanel_->addHeaderWidget(measure_);
  connect(measure_, &QToolButton::clicked, this, [this] {
    if (measurer_->isBusy()) measurer_->cancel();
    else measure(configuredMeasureRequest());
  });
  connect(measurer_, &MeasureRunner::progressed, this, [this](int done, int total) {  // 0, 0: busy
    measureProgress_->setRange(0, total);
    measureProgress_->setValue(done);
  });
  connect(measurer_, &MeasureRunner::finished, this, [this](const MeasureResult& r) {
    measured_ = r;
    measuredPlan_ = measuringPlan_;
    auto same = std::find_if(measuredPoints_.begin(), measuredPoints_.end(),
                             [this](const MeasuredPoint& p) { return p.plan == measuringPlan_; });
    if (same != measuredPoints_.end()) same->result = r, same->x = measuringX_;
    else measuredPoints_.push_back({measuringPlan_, measuringX_, r});
    if (yAxis_->currentIndex() != ErrorAxis) refreshMeasuredPoints();
    measureProgress_->hide();
    measure_->setText(tr("Measure perplexity / KL"));
    showMeasurement();
  });
  connect(measurer_, &MeasureRunner::failed, this, [this](const QString& message, bool cancelled) {
    measureProgress_->hide();
    measure_->setText(tr("Measure perplexity / KL"));
    measureResult_->setText(cancelled ? tr("measurement cancelled") : tr("measurement failed"));
    measureResult_->setToolTip(cancelled ? QString() : message);
  });
}

// Table and plan summary on the left; dendrogram and heatmap over usage and trade-off on the right.
void ExplorerView::arrangePanels() {
  auto* left = new QSplitter(Qt::Vertical, this);
  left->addWidget(tablePanel_);
  left->addWidget(overviewPanel_);
  left->addWidget(summaryPanel_);
  left->setStretchFactor(0, 3);
  left->setStretchFactor(1, 2);
  left->setStretchFactor(2, 2);
  top_ = new QSplitter(Qt::Horizontal, this);
  top_->addWidget(treePanel_);
  top_->addWidget(heatPanel_);
  top_->setStretchFactor(0, 3);
  top_->setStretchFactor(1, 2);
  bottom_ = new QSplitter(Qt::Horizontal, this);
  bottom_->addWidget(usagePanel_);
  bottom_->addWidget(tradeoffPanel_);
  bottom_->setStretchFactor(0, 3);
  bottom_->setStretchFactor(1, 2);
  right_ = new QSplitter(Qt::Vertical, this);
  right_->addWidget(top_);
  right_->addWidget(bottom_);
  right_->setStretchFactor(0, 3);
  right_->setStretchFactor(1, 2);
  outer_ = new QSplitter(Qt::Horizontal, this);
  outer_->addWidget(left);
  outer_->addWidget(right_);
  outer_->setStretchFactor(0, 0);
  outer_->setStretchFactor(1, 1);
  outer_->setSizes({520, 1080});  // wide enough for the layer table's 8 columns
  for (QSplitter* s : {top_, bottom_, right_, outer_, left}) s->setChildrenCollapsible(false);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 6);
  layout->addWidget(outer_);
}

// Document -> views, and the views' edits -> document (each an undoable command).
void ExplorerView::connectDocument() {
  connect(doc_, &ExplorerDocument::analysisChanged, this, &ExplorerView::onAnalysisChanged);
  connect(doc_, &ExplorerDocument::clusteringChanged, this, &ExplorerView::onClusteringChanged);
  // A switch shown on the current layer before every block's tree is built.
  connect(doc_, &ExplorerDocument::shownClusteringChanged, this, [this] { refreshLayerViews(true); });
  connect(doc_, &ExplorerDocument::estimatesChanged, this, [this] {  // built in a worker
    proxyDirty_ = true;
    scheduleErrorRefresh();
  });
  connect(doc_, &ExplorerDocument::planChanged, this, &ExplorerView::onPlanChanged);
  connect(doc_, &ExplorerDocument::currentLayerChanged, this, &ExplorerView::onLayerChanged);
  connect(doc_, &ExplorerDocument::selectionChanged, this, &ExplorerView::onSelectionChanged);
  connect(table_, &widgets::LayerTable::moeLayerSelected, doc_, &ExplorerDocument::setCurrentLayer);
  connect(overview_, &widgets::LayerOverview::moeLayerSelected, doc_, &ExplorerDocument::setCurrentLayer);
  connect(dendrogram_, &widgets::DendrogramView::kRequested, this,
          [this](int k) { doc_->editLayerK(doc_->currentLayer(), k, true); });
  // The drag's last step, everywhere.
  connect(dendrogram_, &widgets::DendrogramView::cutDragFinished, linkedRefresh_, &RateLimitedAction::flush);
  connect(dendrogram_, &widgets::DendrogramView::cutDragFinished, doc_, &ExplorerDocument::endInteractiveEdit);
  connect(dendrogram_, &widgets::DendrogramView::subtreeClicked, doc_, &ExplorerDocument::setSelection);
  connect(heatmap_, &widgets::HeatmapView::expertsClicked, doc_, &ExplorerDocument::setSelection);
  // Zoom and pan in step while the heatmap shows the dendrogram's leaf order (neither slot re-emits).
  connect(dendrogram_, &widgets::DendrogramView::leafRangeChanged, this, [this](double first, double last) {
    if (leafOrder()) heatmap_->setLeafRange(first, last);
  });
  connect(heatmap_, &widgets::HeatmapView::leafRangeChanged, this, [this](double first, double last) {
    if (leafOrder()) dendrogram_->setLeafRange(first, last);
  });
  connect(layerK_, qOverload<int>(&QSpinBox::valueChanged), this,
          [this](int k) { doc_->editLayerK(doc_->currentLayer(), k); });
  connect(resetK_, &QToolButton::clicked, this, [this] { doc_->resetLayerK(doc_->currentLayer()); });
  connect(order_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { refreshLayerViews(true); });
  connect(heatMode_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { refreshLayerViews(true); });
}

void ExplorerView::followLanguage() {
  // Texts set above follow a live language switch; the views' own texts come from the refreshes.
  onLanguageChange(this, [this] {
    tablePanel_->setTitle(tr("Layers"));
    summaryPanel_->setTitle(tr("Plan"));
    treePanel_->setTitle(tr("Dendrogram"));
    usagePanel_->setTitle(tr("Usage and REAP"));
    overviewPanel_->setTitle(tr("All layers"));
    tradeoffPanel_->setTitle(tr("Trade-off"));
    kLabel_->setText(tr("K"));
    layerK_->setToolTip(tr("Clusters kept in this layer (drag the red cut line to change it)"));
    resetK_->setText(tr("Reset"));
    resetK_->setToolTip(tr("Use the global allocation for this layer again"));
    order_->setItemText(0, tr("Dendrogram order"));
    order_->setItemText(1, tr("Expert order"));
    order_->setToolTip(tr("Order of the rows and columns"));
    heatMode_->setItemText(0, tr("Distance"));
    heatMode_->setItemText(1, tr("Cosine similarity"));
    heatMode_->setToolTip(tr("Show the distances the clustering uses, or the cosine similarity of the same "
                             "representation (view only: the plan does not change)"));
    yAxis_->setItemText(ErrorAxis, tr("output error"));
    yAxis_->setItemText(Top1Axis, tr("top-1 agreement"));
    yAxis_->setItemText(RougeLAxis, tr("generation agreement (ROUGE-L)"));
    yAxis_->setItemText(PrefixAxis, tr("identical prefix"));
    yAxis_->setToolTip(tr("The y axis: the uniform plans' output error, or an agreement with the original "
                          "measured for plans (Measure perplexity / KL)"));
    measure_->setText(measurer_->isBusy() ? tr("Cancel") : tr("Measure perplexity / KL"));
    measure_->setToolTip(tr("Perplexity and KL(original || merged) of the current plan on held-out text, tied and "
                            "compact (text and size in Settings)"));
    refreshTable();
    refreshLayerViews(true);
    refreshTradeoff();
    if (measured_) showMeasurement();
  });
}

bool ExplorerView::leafOrder() const { return order_->currentIndex() == 0; }

void ExplorerView::measure(const MeasureRequest& settings) {
  if (!doc_->hasAnalysis() || measurer_->isBusy()) return;
  doc_->settleSwitch();  // measure the clustering choice the user sees
  MeasureRequest r = settings;
  r.modelDir = QString::fromStdString(doc_->analysis().info.modelDir);
  try {
    r.plan = toMergePlan(doc_->analysis(), doc_->plan(), doc_->derived());
  } catch (const std::exception& e) {  // a plan core refuses: say so where the result would go
    measureResult_->setText(tr("measurement failed"));
    measureResult_->setToolTip(QString::fromStdString(e.what()));
    return;
  }
  if (planAsksForAlignment(r.plan)) {  // REAM / align neurons: aligned on the analysis' calibration tokens
    r.calibTokens = doc_->analysis().info.tokenIds;
    r.calibShape = doc_->analysis().info.tokenShape;
  }
  measuringPlan_ = doc_->plan();
  measuringX_ = planX();
  measureProgress_->setRange(0, 0);
  measureProgress_->show();
  measure_->setText(tr("Cancel"));
  measureResult_->setText(tr("measuring on %1 \u00d7 %2 tokens\u2026").arg(r.sequences).arg(r.length));
  measureResult_->setToolTip(QString());
  measurer_->start(r);
}

QString ExplorerView::measureResultText() const { return measureResult_->text(); }

void ExplorerView::showMeasurement() {
  if (!measured_) {
    measureResult_->clear();
    tradeoff_->setMeasurement(QString());
    return;
  }
  const MeasureResult& m = *measured_;
  const bool current = doc_->hasAnalysis() && measuredPlan_ == doc_->plan();
  measureResult_->setText(tr("perplexity %1 \u2192 %2 tied \u00b7 %3 compact")
                              .arg(m.originalPerplexity, 0, 'f', 2)
                              .arg(m.tiedPerplexity, 0, 'f', 2)
                              .arg(m.compactPerplexity, 0, 'f', 2));
  QString generation;
  if (m.hasGeneration)
    generation = tr("\nfree-running agreement over %1 held-out prefixes: identical prefix %2 tied \u00b7 %3 compact "
                    "tokens, ROUGE-L %4 \u00b7 %5")
                     .arg(m.genPromptsUsed)
                     .arg(m.tiedPrefix, 0, 'f', 1)
                     .arg(m.compactPrefix, 0, 'f', 1)
                     .arg(m.tiedRougeL, 0, 'f', 3)
                     .arg(m.compactRougeL, 0, 'f', 3);
  measureResult_->setToolTip(tr("On %1 predicted tokens of held-out text (%2 s):\n"
                                "original perplexity %3\n"
                                "tied: perplexity %4, KL(original || merged) %5, top-1 agreement %9 %\n"
                                "compact: perplexity %6, KL(original || merged) %7, top-1 agreement %10 %%8")
                                 .arg(m.predictedTokens)
                                 .arg(m.seconds, 0, 'f', 1)
                                 .arg(m.originalPerplexity, 0, 'f', 3)
                                 .arg(m.tiedPerplexity, 0, 'f', 3)
                                 .arg(m.tiedKl, 0, 'f', 4)
                                 .arg(m.compactPerplexity, 0, 'f', 3)
                                 .arg(m.compactKl, 0, 'f', 4)
                                 .arg(current ? QString() : tr("\n(measured for an earlier plan)"))
                                 .arg(100.0 * m.tiedTop1, 0, 'f', 1)
                                 .arg(100.0 * m.compactTop1, 0, 'f', 1) +
                             generation);
  measureResult_->setEnabled(current);
  tradeoff_->setMeasurement(current && yAxis_->currentIndex() == ErrorAxis ? tr("ppl %1 tied \u00b7 %2 compact\nKL %3 \u00b7 %4\ntop-1 %5 % \u00b7 %6 %")
                                          .arg(m.tiedPerplexity, 0, 'f', 2)
                                          .arg(m.compactPerplexity, 0, 'f', 2)
                                          .arg(m.tiedKl, 0, 'f', 3)
                                          .arg(m.compactKl, 0, 'f', 3)
                                          .arg(100.0 * m.tiedTop1, 0, 'f', 1)
                                          .arg(100.0 * m.compactTop1, 0, 'f', 1)
                                    : QString());
}

void ExplorerView::onAnalysisChanged() {
  usageSkew_.clear();
  shownTree_ = {};  // a new analysis may reuse the old one's address
  measured_.reset();
  measuredPoints_.clear();
  showMeasurement();
  refreshTable();
  refreshOverview();
  table_->selectMoeIndex(doc_->currentLayer());
}

void ExplorerView::onClusteringChanged() {
  refreshLayerViews(true);
  refreshOverview();
  refreshTradeoff();
}

void ExplorerView::onPlanChanged() {
  if (dendrogram_->isDraggingCut() && doc_->hasAnalysis()) {
    const int j = doc_->currentLayer();
    dendrogram_->setClusters(doc_->k(j), doc_->shownGroups(j));
    {
      const QSignalBlocker block(layerK_);
      layerK_->setValue(static_cast<int>(doc_->k(j)));
    }
    return linkedRefresh_->request();
  }
  linkedRefresh_->run();
}

void ExplorerView::refreshLinkedViews() {
  refreshTable();
  refreshOverview();
  refreshLayerViews(false);
  refreshCurrentPoint();
  if (measured_) showMeasurement();
}

double ExplorerView::planX() const {
  if (doc_->analysis().memory.known) return doc_->memoryAfterPlan() / 1e6;
  double kept = 0, total = 0;
  for (int j = 0; j < doc_->numMoeLayers(); ++j) kept += doc_->k(j), total += doc_->stats(j).numExperts;
  return total > 0 ? 100.0 * kept / total : 0;
}

void ExplorerView::refreshCurrentPoint() {
  if (!doc_->hasAnalysis()) return;
  if (yAxis_->currentIndex() != ErrorAxis) return refreshMeasuredPoints();
  // The marker uses the same kind of value as the curve; while the edited blocks' exact values are
  // being computed (well under a second on small models) it stays where it was.
  if (tradeoffExact_ && !doc_->planErrorsExact()) return;
  widgets::TradeoffPoint p;
  p.memory = planX();
  p.error = doc_->meanError(tradeoffExact_);
  if (p.error < 0) return;  // the estimates are still being built
  tradeoff_->setCurrent(p);
}

void ExplorerView::onLayerChanged() {
  table_->selectMoeIndex(doc_->currentLayer());
  overview_->setCurrentMoeIndex(doc_->currentLayer());
  refreshLayerViews(true);
}

void ExplorerView::onSelectionChanged() {
  showSelection();
  refreshTable();  // the current layer's usage bars show the selection too
}

void ExplorerView::showSelection() {
  heatmap_->setHighlightedExperts(doc_->selection());
  dendrogram_->setSelectedExperts(doc_->selection());
  usage_->setHighlightedExperts(doc_->selection());
}

void ExplorerView::scheduleErrorRefresh() {
  // Results and status changes come in bursts (one per scored entry, per layer of the cache
  // build): any number of them within the interval make one refresh.
  errorRefresh_->requestIn(RateLimitedAction::kResultBurstMs);
}

void ExplorerView::refreshTable() {
  if (!doc_->hasAnalysis()) return;
  ++tableRefreshes_;
  const AnalysisData& data = doc_->analysis();
  std::vector<widgets::LayerRow> rows;
  for (int l = 0; l < static_cast<int>(data.info.numLayers); ++l) {
    widgets::LayerRow row;
    row.layer = l;
    for (int j = 0; j < data.numMoeLayers(); ++j)
      if (data.layers[static_cast<size_t>(j)].layer == l) row.moeIndex = j;
    row.pending = row.moeIndex < 0 && data.pendingLayers > 0 &&
                  std::find(data.info.moeLayers.begin(), data.info.moeLayers.end(), l) != data.info.moeLayers.end();
    if (row.moeIndex >= 0) {
      const int j = row.moeIndex;
      row.experts = doc_->stats(j).numExperts;
      row.k = doc_->k(j);
      row.overridden = doc_->plan().layerK.count(j) > 0;
      if (data.memory.known) {
        row.memoryBytes = layerMemoryAfter(data, j, row.k);
        row.memory = QString::fromStdString(formatBytes(row.memoryBytes));
      }
      row.error = doc_->layerError(j);
      row.errorExact = doc_->layerErrorExact(j);
      row.redundancy = doc_->redundancy(j);
      // Depends on the statistics only: computed once per analysis (a table refresh runs on every
      // cut-line drag step).
      if (usageSkew_.size() != static_cast<size_t>(doc_->numMoeLayers()))
        for (int i = static_cast<int>(usageSkew_.size()); i < doc_->numMoeLayers(); ++i)
          usageSkew_.push_back(widgets::usageSkew(doc_->stats(i).usageFrequency));
      row.usageSkew = usageSkew_[static_cast<size_t>(j)];
      if (const auto e = doc_->exactLayerError(j); e && e->tied >= 0) {
        row.errorToolTip = tr("Relative L2 error of the merged block on %1 calibration tokens:\n"
                              "tied (router kept) %2 \u00b7 compact (averaged router) %3")
                               .arg(doc_->errorService()->tokensPerBlock())
                               .arg(e->tied, 0, 'f', 4)
                               .arg(e->compact, 0, 'f', 4);
      } else if (row.error >= 0) {
        row.errorToolTip = tr("Estimate from the experts' mean outputs; the exact error is not computed yet");
      }
      for (int64_t e : doc_->tree(j).leafOrder) {
        row.usage.push_back(doc_->stats(j).usageFrequency[static_cast<size_t>(e)]);
        row.clusters.push_back(doc_->mergeGroups(j)[static_cast<size_t>(e)]);
        if (j == doc_->currentLayer() && !doc_->selection().empty())
          row.highlighted.push_back(std::find(doc_->selection().begin(), doc_->selection().end(), e) !=
                                    doc_->selection().end());
      }
    } else if (data.memory.known && l < static_cast<int>(data.memory.layerBytes.size())) {
      row.memoryBytes = data.memory.layerBytes[static_cast<size_t>(l)];
      row.memory = QString::fromStdString(formatBytes(row.memoryBytes));
    }
    rows.push_back(row);
  }
  table_->setRows(rows);
}

void ExplorerView::refreshOverview() {
  if (!doc_->hasAnalysis()) return;
  std::vector<widgets::OverviewLayer> layers;
  for (int j = 0; j < doc_->numMoeLayers(); ++j) {
    widgets::OverviewLayer l;
    l.layer = doc_->stats(j).layer;
    l.moeIndex = j;
    for (const moe::Merge& m : doc_->tree(j).linkage.merges) l.mergeHeights.push_back(m.height);
    l.k = doc_->k(j);
    layers.push_back(l);
  }
  overview_->setLayers(layers);
  overview_->setCurrentMoeIndex(doc_->currentLayer());
}

void ExplorerView::refreshLayerViews(bool treeChanged) {
  if (!doc_->hasAnalysis()) return;
  const int j = doc_->currentLayer();
  const moe::LayerStats& s = doc_->stats(j);
  const moe::LayerTree& t = doc_->shownTree(j);
  // What the strategy makes of the experts (REAM's groups, pruning's kept and dropped experts), not
  // only the tree's cut: the views show what the merge will do.
  const std::vector<int64_t>& clusters = doc_->shownGroups(j);
  const std::vector<int64_t> order = leafOrder() ? t.leafOrder : std::vector<int64_t>{};
  const PlanState shown = doc_->shownClustering();
  if (treeChanged) {
    // A switch shown on this layer first and applied once every block's tree is built draws the
    // same tree twice: the second time keeps the user's zoom and folding.
    const ShownTree drawn{doc_->analysisPtr().get(), j, shown.clusteringKey()};
    if (drawn != shownTree_) {
      dendrogram_->setTree(t.linkage, s.usageFrequency);
      // From 128 experts the clusters start folded: the tree reads at a glance, a click unfolds one.
      dendrogram_->setFoldAll(t.leafOrder.size() >= 128);
      shownTree_ = drawn;
    }
    if (heatMode_->currentIndex() == 1) {
      // Similarity of the representation the plan clusters on: 1 - cosine distance.
      moe::Matrix similarity = doc_->analysis().distanceMatrix(j, shown.representation, "cosine");
      for (double& v : similarity.data) v = 1.0 - v;
      heatmap_->setData(similarity, order, s.usageFrequency, clusters);
      heatmap_->setValueLabel(tr("cosine similarity"));
      heatmap_->setHigherIsCloser(true);
      heatPanel_->setTitle(tr("Expert similarities"));
    } else {
      heatmap_->setData(doc_->shownDistances(j), order, s.usageFrequency, clusters);
      heatmap_->setValueLabel(shown.metric == "cosine" ? tr("cosine distance") : tr("Euclidean distance"));
      heatmap_->setHigherIsCloser(false);
      heatPanel_->setTitle(tr("Expert distances"));
    }
  } else {
    heatmap_->setClusters(clusters);
  }
  dendrogram_->setClusters(doc_->k(j), clusters);
  usage_->setData(s.usageFrequency, s.reapScore, t.leafOrder, clusters);
  {
    const QSignalBlocker block(layerK_);
    // setRange re-runs the window's layout even for the same range: only when it changes.
    if (layerK_->maximum() != static_cast<int>(s.numExperts) || layerK_->minimum() != 1)
      layerK_->setRange(1, static_cast<int>(s.numExperts));
    layerK_->setValue(static_cast<int>(doc_->k(j)));
  }
  resetK_->setEnabled(doc_->plan().layerK.count(j) > 0);
  QString title = tr("layer %1 \u00b7 %2 experts \u00b7 top-%3").arg(s.layer).arg(s.numExperts).arg(s.topK);
  if (doc_->switchPending()) title += tr(" \u00b7 clustering the other layers\u2026");
  treePanel_->setSubtitle(title);
  heatPanel_->setSubtitle(tr("layer %1").arg(s.layer));
  usagePanel_->setSubtitle(tr("layer %1 \u00b7 %2 calibration tokens").arg(s.layer).arg(s.tokens));
  showSelection();  // the table follows from the caller (a plan change, or the selectionChanged after a layer change)
}

void ExplorerView::refreshTradeoff() {
  if (!doc_->hasAnalysis()) return;
  proxyDirty_ = false;
  proxyCurve_.clear();
  // Every K: the document estimates all K of a block in one walk of its tree.
  const int64_t maxE = doc_->analysis().maxExperts();
  for (int64_t K = maxE; K >= 1; --K) proxyCurve_.push_back(doc_->uniformMeanError(K, false));
  curveDirty_ = true;
  refreshErrors();
}

void ExplorerView::refreshErrors() {
  if (!doc_->hasAnalysis()) return;
  refreshTable();
  const AnalysisData& data = doc_->analysis();
  const int64_t maxE = data.maxExperts();
  // Exact values replace the proxy only once the whole curve is measured: the two are on
  // different scales and must not share one plot.
  const bool exact = doc_->curveErrorsExact();
  if (yAxis_->currentIndex() != ErrorAxis) {
    curveDirty_ = true;  // redrawn when the error axis is chosen again
    return refreshMeasuredPoints();
  }
  if (!curveDirty_ && exact == tradeoffExact_ && drawnCurve_ == doc_->curveSerial()) return refreshCurrentPoint();
  curveDirty_ = false;
  drawnCurve_ = doc_->curveSerial();
  std::vector<widgets::TradeoffPoint> curve;
  int64_t totalExperts = 0;
  for (const auto& s : data.layers) totalExperts += s.numExperts;
  std::vector<int64_t> Ks;
  if (exact) Ks = doc_->curveKs();
  else for (int64_t K = maxE; K >= 1; --K) Ks.push_back(K);
  for (int64_t K : Ks) {
    std::vector<int64_t> k;
    int64_t kept = 0;
    for (int j = 0; j < doc_->numMoeLayers(); ++j) {
      k.push_back(std::min(K, doc_->stats(j).numExperts));
      kept += k.back();
    }
    widgets::TradeoffPoint p;
    p.k = static_cast<int>(K);
    p.memory = data.memory.known ? memoryAfter(data, k) / 1e6 : 100.0 * kept / std::max<int64_t>(1, totalExperts);
    p.error = exact ? doc_->uniformMeanError(K, true) : proxyCurve_.at(static_cast<size_t>(maxE - K));
    if (p.error >= 0) curve.push_back(p);  // no point while the estimates are being built
  }
  tradeoffExact_ = exact;
  tradeoff_->setAxisLabels(data.memory.known ? tr("model size (MB)") : tr("experts kept (%)"),
                           exact ? tr("relative output error (tied)") : tr("output error (estimate)"));
  tradeoff_->setCurve(curve);
  tradeoff_->setMeasured({}, {});
  tradeoff_->setHint(QString());
  tradeoffPanel_->setSubtitle(exact ? tr("uniform K from %1 to 1, mean over layers").arg(maxE)
                                    : tr("uniform K from %1 to 1, mean over layers \u00b7 estimate until the exact "
                                         "errors are computed")
                                          .arg(maxE));
  refreshCurrentPoint();
}

// Agreement axes: only measured plans have values; the uniform curve and the unmeasured current
// plan are not drawn. Points without a value for the axis (no generation prompts) are left out.
void ExplorerView::refreshMeasuredPoints() {
  const int axis = yAxis_->currentIndex();
  std::vector<widgets::TradeoffPoint> tied, compact;
  for (const MeasuredPoint& m : measuredPoints_) {
    if (axis != Top1Axis && !m.result.hasGeneration) continue;
    widgets::TradeoffPoint t, c;
    t.memory = c.memory = m.x;
    if (axis == Top1Axis) t.error = 100.0 * m.result.tiedTop1, c.error = 100.0 * m.result.compactTop1;
    else if (axis == RougeLAxis) t.error = m.result.tiedRougeL, c.error = m.result.compactRougeL;
    else t.error = m.result.tiedPrefix, c.error = m.result.compactPrefix;
    tied.push_back(t);
    compact.push_back(c);
  }
  const bool memory = doc_->hasAnalysis() && doc_->analysis().memory.known;
  const QString yLabel = axis == Top1Axis     ? tr("top-1 agreement (%, teacher-forced)")
                         : axis == RougeLAxis ? tr("generation agreement (ROUGE-L)")
                                              : tr("identical prefix (tokens)");
  tradeoff_->setAxisLabels(memory ? tr("model size (MB)") : tr("experts kept (%)"), yLabel);
  tradeoff_->setCurve({});
  tradeoff_->clearCurrent();
  tradeoff_->setMeasured(tied, compact);
  QString hint;
  if (tied.empty())
    hint = axis == Top1Axis ? tr("Measure a plan (Measure perplexity / KL) to see its top-1 agreement")
                            : tr("Measure a plan with generation prompts on (Settings) to see generation agreement");
  tradeoff_->setHint(hint);
  tradeoffPanel_->setSubtitle(tr("measured plans (tied and compact): %1").arg(tied.size()));
}

QByteArray ExplorerView::saveLayout() const {
  QByteArray out;
  QDataStream s(&out, QIODevice::WriteOnly);
  s << outer_->saveState() << right_->saveState() << top_->saveState() << bottom_->saveState() << order_->currentIndex();
  return out;
}

void ExplorerView::restoreLayout(const QByteArray& state) {
  QDataStream s(state);
  QByteArray a, b, c, d;
  int order = 0;
  s >> a >> b >> c >> d >> order;
  if (s.status() != QDataStream::Ok) return;
  outer_->restoreState(a);
  right_->restoreState(b);
  top_->restoreState(c);
  bottom_->restoreState(d);
  order_->setCurrentIndex(order);
}

}  // namespace gui
}  // namespace moe
