#pragma once
// Overview of every MoE layer at once (40-94 layers): one row per layer, one column per K (the
// clusters kept), coloured by how far up the layer's dendrogram the cut to K clusters reaches
// (merge height / the layer's top merge height: dark = cheap merges). The chosen K of each layer
// is marked and the current layer outlined; clicking a row selects that layer. Plain data, no torch.
#include <qcustomplot.h>

#include <cstdint>
#include <vector>

namespace moe {
namespace widgets {

struct OverviewLayer {
  int layer = 0;                     // decoder layer (row label)
  int moeIndex = 0;                  // what moeLayerSelected reports
  std::vector<double> mergeHeights;  // the linkage's merge heights in merge order (E - 1 values)
  int64_t k = 0;                     // chosen K (0: none marked)
};

class LayerOverview : public QCustomPlot {
  Q_OBJECT

 public:
  explicit LayerOverview(QWidget* parent = nullptr);
  void setLayers(const std::vector<OverviewLayer>& layers);
  void setCurrentMoeIndex(int moeIndex);

  // What is drawn, for tests: rows top to bottom, columns K = 1 .. columnCount().
  int rowCount() const { return static_cast<int>(layers_.size()); }
  int columnCount() const { return static_cast<int>(maxExperts_); }
  int moeIndexAtRow(int row) const { return layers_.at(static_cast<size_t>(row)).moeIndex; }
  int currentMoeIndex() const { return current_; }
  // Colour-map value of row `row` at K clusters (NaN where the layer has fewer than K experts).
  double cellValue(int row, int64_t k) const;
  // Widget pixel at the centre of that cell (for clicking it in tests).
  QPointF cellCentre(int row, int64_t k) const;

 signals:
  void moeLayerSelected(int moeIndex);

 protected:
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  bool updateRowTicks(bool force);
  void updateCurrentMark();
  int rowAt(const QPointF& pixel) const;  // -1 outside the rows
  void retranslate();

  std::vector<OverviewLayer> layers_;
  int64_t maxExperts_ = 0;
  int current_ = -1;
  int rowStep_ = 0;  // a row label every rowStep_ rows
  QCPColorMap* map_ = nullptr;
  QCPColorScale* scale_ = nullptr;
  QCPGraph* chosen_ = nullptr;
  // The chosen-K marks on a buffered layer of their own: a plan edit (each cut-line drag frame)
  // redraws them alone, not the layers x K map and its axes.
  QCPLayer* planLayer_ = nullptr;
  QCPItemRect* currentRow_ = nullptr;
};

}  // namespace widgets
}  // namespace moe
