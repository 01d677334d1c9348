#pragma once
// Expert x expert matrix (distances or similarities) as a colour map without interpolation, one
// cell per pair, ordered by dendrogram leaf order or by expert id. Cluster blocks (runs of equal
// cluster in display order) are outlined in their cluster colour; hovering a cell shows both
// expert ids, the value and both usage frequencies. Plain data in, no torch.
//
// Built for 128-512 experts: wheel / drag / keyboard zoom and pan (+, -, arrows, 0 or Home to fit,
// double-click to fit), the same range on both axes; axis labels are thinned to what fits so they
// never overlap; an optional K x K cluster summary (mean value between clusters).
#include <qcustomplot.h>

#include <cstdint>
#include <vector>

#include "core/analysis/layer_stats.h"

namespace moe {
namespace widgets {

class HeatmapAxisLabels;

class HeatmapView : public QCustomPlot {
  Q_OBJECT

 public:
  explicit HeatmapView(QWidget* parent = nullptr);

  // values: [E, E] in expert order. order: display position -> expert (empty: natural order).
  // usage: [E] usage frequency (may be empty). clusters: [E] cluster of each expert (may be empty).
  void setData(const moe::Matrix& values, const std::vector<int64_t>& order, const std::vector<double>& usage,
               const std::vector<int64_t>& clusters);
  void setClusters(const std::vector<int64_t>& clusters);
  void setHighlightedExperts(const std::vector<int64_t>& experts);
  void setValueLabel(const QString& label);
  QString valueLabel() const;
  // Similarities: high values mean alike, so the gradient is flipped to keep "alike" dark in both modes.
  void setHigherIsCloser(bool higherIsCloser);
  // Tooltip text of the cell at (row, column) in display order (what hovering it shows).
  QString cellToolTip(int64_t row, int64_t column) const;

  // Cluster summary: one cell per pair of clusters, clusters in order of first appearance along the
  // display order (leaf order: cluster ids are numbered that way). Cell (a, b) holds the mean value
  // over pairs of distinct experts (i in a, j in b); a one-expert cluster's diagonal cell holds
  // its own diagonal value. Needs clusters; without them the full matrix is shown.
  void setClusterSummary(bool on);
  bool clusterSummary() const { return summary_; }
  bool showingSummary() const { return summary_ && !summaryMembers_.empty(); }
  // Experts of summary position a, in display order.
  const std::vector<int64_t>& summaryMembers(int64_t position) const { return summaryMembers_.at(static_cast<size_t>(position)); }

  // What is drawn, for tests and exports: cells in display order.
  int64_t size() const { return static_cast<int64_t>(order_.size()); }
  int64_t cellCount() const;  // rows (= columns) of the colour map: size(), or K in the summary
  double cellValue(int64_t row, int64_t column) const;  // value stored in the colour map
  int64_t expertAt(int64_t position) const { return order_.at(static_cast<size_t>(position)); }
  const std::vector<int64_t>& displayOrder() const { return order_; }
  int outlinedBlocks() const { return static_cast<int>(outlinesShown_); }
  int highlightedBlocks() const { return static_cast<int>(highlightItems_.size()); }
  QColor outlineColor(int block) const;

  // Visible range of both axes in cell units (cell p spans p - 0.5 .. p + 0.5).
  QCPRange visibleRange() const { return xAxis->range(); }
  // Screen rectangles (widget pixels) of the axis labels of the last draw, both axes.
  std::vector<QRectF> drawnLabelRects() const { return labelRects_; }

 public slots:
  // Shows leaf positions first .. last (leaf i at position i; the full view is -0.5 .. E - 0.5)
  // on both axes, clamped to the data. Does not emit leafRangeChanged, so two views can follow
  // each other without echoing. Ignored in a summary whose clusters are not contiguous runs of
  // the display order (expert order), where leaf positions have no place.
  void setLeafRange(double first, double last);
  void fitAll();                        // whole matrix; emits leafRangeChanged
  void zoomBy(double factor, double centre);  // factor < 1 zooms in, about `centre` (cell units); emits

 signals:
  void expertsClicked(const std::vector<int64_t>& experts);
  // The user zoomed or panned: visible leaf positions, in the units of setLeafRange.
  void leafRangeChanged(double first, double last);

 protected:
  void mouseMoveEvent(QMouseEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  friend class HeatmapAxisLabels;
  void rebuildMap();
  void rebuildSummary();
  void rebuildOutlines();
  void reserveLabelSpace();
  void drawAxisLabels(QCPPainter* painter);
  QString positionLabel(int64_t position) const;
  QString groupName(int64_t expert) const;  // "c3", or "dropped" for an expert outside every group
  bool cellAt(const QPointF& pixel, int64_t* row, int64_t* column) const;
  std::vector<int64_t> expertsAt(int64_t position) const;  // one expert, or a summary cluster's members
  // Applies a range in display units (clamped); emits leafRangeChanged when `user` is set.
  void applyRange(double lo, double hi, bool user);
  double displayToLeaf(double x) const;
  double leafToDisplay(double x) const;

  QCPColorMap* map_ = nullptr;
  QCPColorScale* scale_ = nullptr;
  HeatmapAxisLabels* labels_ = nullptr;
  moe::Matrix values_;
  std::vector<int64_t> order_;
  std::vector<double> usage_;
  std::vector<int64_t> clusters_;
  std::vector<int64_t> highlighted_;
  std::vector<QCPItemRect*> outlines_;  // the first outlinesShown_ are visible, the rest hidden for reuse
  size_t outlinesShown_ = 0;
  QCPItemRect* hoverRow_ = nullptr;
  std::vector<QCPItemRect*> highlightItems_;
  std::vector<QRectF> labelRects_;
  int64_t drawnCells_ = -1;  // cells per side of the colour map as last filled
  double maxLabelWidth_ = 0;  // widest axis label, pixels (sets the space kept for labels)
  bool summary_ = false;
  std::vector<std::vector<int64_t>> summaryMembers_;  // per summary position, its experts (display order)
  std::vector<double> summaryValues_;                 // [K * K], row-major
  std::vector<std::pair<int64_t, int64_t>> summaryRuns_;  // leaf positions of each cluster when contiguous
  bool dragging_ = false;
  bool pressed_ = false;
  QPointF pressPixel_;
  QCPRange pressRange_;
};

}  // namespace widgets
}  // namespace moe
