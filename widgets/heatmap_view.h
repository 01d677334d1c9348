#pragma once
// Expert x expert matrix (distances or similarities) as a colour map without interpolation, one
// cell per pair, ordered by dendrogram leaf order or by expert id. Cluster blocks (runs of equal
// cluster in display order) are outlined in their cluster colour; hovering a cell shows both
// expert ids, the value and both usage frequencies. Plain data in, no torch.
#include <qcustomplot.h>

#include <cstdint>
#include <vector>

#include "core/analysis/layer_stats.h"

namespace moe {
namespace widgets {

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

  // What is drawn, for tests and exports: cells in display order.
  int64_t size() const { return static_cast<int64_t>(order_.size()); }
  double cellValue(int64_t row, int64_t column) const;  // value stored in the colour map
  int64_t expertAt(int64_t position) const { return order_.at(static_cast<size_t>(position)); }
  const std::vector<int64_t>& displayOrder() const { return order_; }
  int outlinedBlocks() const { return static_cast<int>(outlines_.size()); }
  int highlightedBlocks() const { return static_cast<int>(highlightItems_.size()); }
  QColor outlineColor(int block) const;

 signals:
  void expertsClicked(const std::vector<int64_t>& experts);

 protected:
  void mouseMoveEvent(QMouseEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void rebuildTicks();
  void rebuildOutlines();
  bool cellAt(const QPointF& pixel, int64_t* row, int64_t* column) const;

  QCPColorMap* map_ = nullptr;
  QCPColorScale* scale_ = nullptr;
  moe::Matrix values_;
  std::vector<int64_t> order_;
  std::vector<double> usage_;
  std::vector<int64_t> clusters_;
  std::vector<int64_t> highlighted_;
  std::vector<QCPItemRect*> outlines_;
  QCPItemRect* hoverRow_ = nullptr;
  QCPItemRect* hoverColumn_ = nullptr;
  std::vector<QCPItemRect*> highlightItems_;
};

}  // namespace widgets
}  // namespace moe
