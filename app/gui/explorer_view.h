#pragma once
// The explorer's main area: layer navigator, dendrogram, distance heatmap, usage chart and the
// trade-off plot, all showing the document's current layer and plan and kept in sync with it.
#include <QWidget>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/gui/measure_request.h"
#include "app/gui/plan_state.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QSpinBox;
class QSplitter;
class QToolButton;

namespace moe {
namespace widgets {
class DendrogramView;
class HeatmapView;
class LayerTable;
class LayerOverview;
class TradeoffPlot;
class UsageChart;
}  // namespace widgets
}  // namespace moe

namespace moe {
namespace gui {

class ExplorerDocument;
class LayerErrorStatus;
class MeasureRunner;
class Panel;
class RateLimitedAction;

class ExplorerView : public QWidget {
  Q_OBJECT

 public:
  explicit ExplorerView(ExplorerDocument* doc, QWidget* parent = nullptr);

  widgets::DendrogramView* dendrogram() const { return dendrogram_; }
  widgets::HeatmapView* heatmap() const { return heatmap_; }
  widgets::LayerTable* layerTable() const { return table_; }
  widgets::UsageChart* usageChart() const { return usage_; }
  widgets::LayerOverview* layerOverview() const { return overview_; }
  widgets::TradeoffPlot* tradeoff() const { return tradeoff_; }
  QSpinBox* layerKSpin() const { return layerK_; }
  QComboBox* orderCombo() const { return order_; }
  QComboBox* heatmapModeCombo() const { return heatMode_; }  // 0: distance as clustered, 1: cosine similarity
  LayerErrorStatus* errorStatus() const { return errorStatus_; }
  bool tradeoffExact() const { return tradeoffExact_; }  // the plot shows exact errors, not the proxy
  // The trade-off plot's y axis: 0 output error (the curve), 1 top-1 agreement (teacher-forced),
  // 2 generation agreement (ROUGE-L), 3 identical prefix; 1-3 come from measured plans only.
  enum TradeoffAxis { ErrorAxis = 0, Top1Axis, RougeLAxis, PrefixAxis };
  QComboBox* tradeoffAxisCombo() const { return yAxis_; }
  QToolButton* measureButton() const { return measure_; }
  MeasureRunner* measureRunner() const { return measurer_; }
  QString measureResultText() const;
  // Measures perplexity / KL of the current plan with `settings` (text, sequences, length).
  void measure(const MeasureRequest& settings);
  bool leafOrder() const;

  // Layer-table refreshes so far (rows rebuilt from the document), for tests: background results
  // (errorsChanged, estimatesChanged) arriving within one event-loop turn cost at most one.
  int tableRefreshCount() const { return tableRefreshes_; }

  QByteArray saveLayout() const;
  void restoreLayout(const QByteArray& state);

 private:
  void createViews();
  void createPanels();
  void createMeasureControls();
  void arrangePanels();
  void connectDocument();
  void followLanguage();  // texts set by the constructor follow a live language switch
  void onAnalysisChanged();
  void onClusteringChanged();
  void onPlanChanged();
  void onLayerChanged();
  void onSelectionChanged();
  void showSelection();  // the plots' highlights (the table's come with refreshTable)
  void scheduleErrorRefresh();  // one refreshErrors (refreshTradeoff if the estimates changed) soon
  void refreshTable();
  void refreshTradeoff();         // the proxy curve (clustering changed), then refreshErrors
  void refreshErrors();           // table and trade-off values (exact where computed)
  void refreshCurrentPoint();
  void refreshMeasuredPoints();  // the agreement axes: measured plans only, or how to get them
  double planX() const;          // the current plan's x on the trade-off plot
  void showMeasurement();  // the last result, marked on the plot while the plan is the one measured
  void refreshLayerViews(bool treeChanged);
  void refreshOverview();  // every layer's cut heights and chosen K

  ExplorerDocument* doc_;
  widgets::LayerTable* table_;
  widgets::DendrogramView* dendrogram_;
  widgets::HeatmapView* heatmap_;
  widgets::UsageChart* usage_;
  widgets::LayerOverview* overview_;
  std::vector<double> usageSkew_;   // per MoE layer, of the analysis (empty: to compute)
  // Which tree the dendrogram was given last (analysis, MoE block, clustering key).
  struct ShownTree {
    const void* analysis = nullptr;
    int layer = -1;
    std::string key;
    bool operator!=(const ShownTree& o) const { return analysis != o.analysis || layer != o.layer || key != o.key; }
  };
  ShownTree shownTree_;
  widgets::TradeoffPlot* tradeoff_;
  Panel* tablePanel_;
  Panel* summaryPanel_;
  QLabel* kLabel_;
  Panel* treePanel_;
  Panel* heatPanel_;
  Panel* usagePanel_;
  Panel* overviewPanel_;
  Panel* tradeoffPanel_;
  QSpinBox* layerK_;
  QToolButton* resetK_;
  QComboBox* order_;
  QComboBox* heatMode_;
  LayerErrorStatus* errorStatus_;
  RateLimitedAction* errorRefresh_;  // coalesces bursts of exact-error results into one redraw
  // While the cut line is dragged, the tree follows every step and the linked views (table,
  // overview, heatmap outlines, usage chart, trade-off marker) at most every 100 ms, at once when
  // the drag ends: redrawing all of them took most of each drag frame at 256 experts.
  void refreshLinkedViews();
  RateLimitedAction* linkedRefresh_;
  bool proxyDirty_ = false;  // the estimates' models arrived: the proxy curve is recomputed on the timer
  int tableRefreshes_ = 0;
  std::vector<double> proxyCurve_;  // mean proxy error of the uniform plans K = maxE .. 1
  bool tradeoffExact_ = false;
  QToolButton* measure_;
  QProgressBar* measureProgress_;
  QLabel* measureResult_;
  MeasureRunner* measurer_;
  std::optional<MeasureResult> measured_;
  PlanState measuredPlan_, measuringPlan_;
  double measuringX_ = 0;
  // Every plan measured on this analysis (the latest result per plan), for the agreement axes.
  struct MeasuredPoint {
    PlanState plan;
    double x = 0;
    MeasureResult result;
  };
  std::vector<MeasuredPoint> measuredPoints_;
  QComboBox* yAxis_;
  bool curveDirty_ = true;  // the curve must be redrawn (clustering changed)
  int drawnCurve_ = -1;     // ExplorerDocument::curveSerial() of the curve drawn
  QSplitter* outer_;
  QSplitter* right_;
  QSplitter* top_;
  QSplitter* bottom_;
};

}  // namespace gui
}  // namespace moe
