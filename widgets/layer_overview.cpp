#include "widgets/layer_overview.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <limits>

#include "widgets/cluster_palette.h"
#include "widgets/plot_style.h"

namespace moe {
namespace widgets {
namespace {


// Height of the cut that leaves k of the E = heights.size() + 1 experts, over the top merge, for
// k = 1 .. columns (NaN beyond E). Merges apply in order, so k clusters remain after the first
// E - k of them: one running maximum gives every k (measuring each k from scratch was O(E^2) per
// row, ~40 ms per clustering switch at 512 experts x 60 blocks).
std::vector<double> cutFractions(const std::vector<double>& heights, int64_t columns) {
  const int64_t e = static_cast<int64_t>(heights.size()) + 1;
  std::vector<double> out(static_cast<size_t>(std::max<int64_t>(columns, 0)), std::numeric_limits<double>::quiet_NaN());
  const double top = heights.empty() ? 0 : *std::max_element(heights.begin(), heights.end());
  double reached = 0;
  for (int64_t k = e; k >= 1; --k) {  // reached = max of the first e - k heights
    if (k < e) reached = std::max(reached, heights[static_cast<size_t>(e - k - 1)]);
    if (k <= columns) out[static_cast<size_t>(k - 1)] = k == e ? 0 : (top > 0 ? reached / top : 0);
  }
  return out;
}

}  // namespace

LayerOverview::LayerOverview(QWidget* parent) : QCustomPlot(parent) {
  setMouseTracking(true);
  setInteractions(QCP::Interactions());
  map_ = new QCPColorMap(xAxis, yAxis);
  map_->setInterpolate(false);
  map_->setTightBoundary(false);
  scale_ = new QCPColorScale(this);
  scale_->setType(QCPAxis::atRight);
  scale_->setBarWidth(10);
  scale_->setGradient(viridisGradient()  /* dark where merging is cheap */);
  scale_->setDataRange(QCPRange(0, 1));
  plotLayout()->addElement(0, 1, scale_);
  map_->setColorScale(scale_);
  map_->setGradient(viridisGradient());
  auto* group = new QCPMarginGroup(this);
  axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  yAxis->setRangeReversed(true);
  xAxis->grid()->setVisible(false);
  yAxis->grid()->setVisible(false);
  // K is a count: ticks on whole numbers only.
  auto kTicker = QSharedPointer<QCPAxisTickerFixed>::create();
  kTicker->setTickStep(1);
  kTicker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  xAxis->setTicker(kTicker);
  chosen_ = new QCPGraph(xAxis, yAxis);
  chosen_->setLineStyle(QCPGraph::lsNone);
  planLayer_ = addPlanLayer(this);
  chosen_->setLayer(planLayer_);
  currentRow_ = new QCPItemRect(this);
  currentRow_->setLayer("overlay");
  currentRow_->setBrush(Qt::NoBrush);
  currentRow_->setVisible(false);
  // The label spacing depends on the laid-out height, known only once a replot has laid it out.
  connect(this, &QCustomPlot::afterLayout, this, [this] {
    if (updateRowTicks(false)) replot(QCustomPlot::rpQueuedReplot);
  });
  retranslate();
  applyPlotStyle(this);
  styleAxis(scale_->axis(), this);
}

void LayerOverview::retranslate() {
  xAxis->setLabel(tr("clusters kept (K)"));
  yAxis->setLabel(tr("layer"));
  scale_->setLabel(tr("cut height / top merge"));
}

void LayerOverview::setLayers(const std::vector<OverviewLayer>& layers) {
  // A plan edit changes only the chosen K: the map (layers x experts cells, its image rebuilt on
  // the next replot) is refilled only when the trees changed.
  const bool sameTrees =
      layers.size() == layers_.size() &&
      std::equal(layers.begin(), layers.end(), layers_.begin(), [](const OverviewLayer& a, const OverviewLayer& b) {
        return a.layer == b.layer && a.moeIndex == b.moeIndex && a.mergeHeights == b.mergeHeights;
      });
  if (sameTrees) {
    layers_ = layers;
    QVector<double> ks, ys;
    for (int r = 0; r < rowCount(); ++r)
      if (layers_[static_cast<size_t>(r)].k > 0) ks << static_cast<double>(layers_[static_cast<size_t>(r)].k), ys << r;
    chosen_->setData(ks, ys, false);
    planLayer_->replot();  // falls back to a whole replot while the buffers are not drawn yet
    return;
  }
  layers_ = layers;
  maxExperts_ = 0;
  for (const OverviewLayer& l : layers_) maxExperts_ = std::max<int64_t>(maxExperts_, static_cast<int64_t>(l.mergeHeights.size()) + 1);
  const int rows = rowCount(), columns = columnCount();
  map_->data()->setSize(std::max(columns, 1), std::max(rows, 1));
  // Cell centres at K = 1 .. maxE and rows 0 .. n - 1 (a single cell needs a non-empty range).
  map_->data()->setRange(QCPRange(1, std::max(columns, 2)), QCPRange(0, std::max(rows - 1, 1)));
  QVector<double> ks, ys;
  for (int r = 0; r < rows; ++r) {
    const OverviewLayer& l = layers_[static_cast<size_t>(r)];
    const std::vector<double> fractions = cutFractions(l.mergeHeights, columns);
    for (int64_t k = 1; k <= columns; ++k) map_->data()->setCell(static_cast<int>(k - 1), r, fractions[static_cast<size_t>(k - 1)]);
    if (l.k > 0) ks << static_cast<double>(l.k), ys << r;
  }
  chosen_->setData(ks, ys, false);
  const QColor mark = isDarkPalette(palette()) ? QColor(250, 250, 250) : QColor(255, 255, 255);
  chosen_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QColor(20, 20, 20), mark, rows > 48 ? 5 : 7));
  xAxis->setRange(0.5, std::max(columns, 1) + 0.5);
  yAxis->setRange(-0.5, std::max(rows, 1) - 0.5);
  updateRowTicks(true);
  updateCurrentMark();
  replot(QCustomPlot::rpQueuedReplot);
}

double LayerOverview::cellValue(int row, int64_t k) const {
  return map_->data()->cell(static_cast<int>(k - 1), row);
}

QPointF LayerOverview::cellCentre(int row, int64_t k) const {
  return {xAxis->coordToPixel(static_cast<double>(k)), yAxis->coordToPixel(static_cast<double>(row))};
}

void LayerOverview::setCurrentMoeIndex(int moeIndex) {
  if (moeIndex == current_) return;  // asked on every plan edit
  current_ = moeIndex;
  updateCurrentMark();
  replot(QCustomPlot::rpQueuedReplot);
}

void LayerOverview::updateCurrentMark() {
  int row = -1;
  for (int r = 0; r < rowCount(); ++r)
    if (layers_[static_cast<size_t>(r)].moeIndex == current_) row = r;
  currentRow_->setVisible(row >= 0);
  if (row < 0) return;
  currentRow_->topLeft->setCoords(0.5, row - 0.5);
  currentRow_->bottomRight->setCoords(columnCount() + 0.5, row + 0.5);
  currentRow_->setPen(QPen(palette().color(QPalette::Highlight).lighter(isDarkPalette(palette()) ? 150 : 100), 2));
}

// Row labels (decoder layer numbers) every 1-2-5 x 10^k rows, spaced wider than the text height.
// Returns whether they changed.
bool LayerOverview::updateRowTicks(bool force) {
  const int rows = rowCount();
  const double pixelsPerRow = axisRect()->height() / std::max(1.0, yAxis->range().size());
  const double need = QFontMetricsF(yAxis->tickLabelFont()).height() + 2;
  int step = 0;
  for (int decade = 1; step == 0 && decade <= 100000; decade *= 10)
    for (int m : {1, 2, 5})
      if (step == 0 && m * decade * pixelsPerRow >= need) step = m * decade;
  step = std::max(step, 1);
  if (!force && step == rowStep_) return false;
  rowStep_ = step;
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  for (int r = 0; r < rows; r += step) ticker->addTick(r, QString::number(layers_[static_cast<size_t>(r)].layer));
  yAxis->setTicker(ticker);
  return true;
}

int LayerOverview::rowAt(const QPointF& pixel) const {
  if (!axisRect()->rect().contains(pixel.toPoint())) return -1;
  const int r = static_cast<int>(std::llround(yAxis->pixelToCoord(pixel.y())));
  return r >= 0 && r < rowCount() ? r : -1;
}

void LayerOverview::mousePressEvent(QMouseEvent* event) {
  QCustomPlot::mousePressEvent(event);
  const int r = rowAt(event->position());
  if (event->button() != Qt::LeftButton || r < 0) return;
  setCurrentMoeIndex(moeIndexAtRow(r));
  emit moeLayerSelected(moeIndexAtRow(r));
}

void LayerOverview::mouseMoveEvent(QMouseEvent* event) {
  QCustomPlot::mouseMoveEvent(event);
  const int r = rowAt(event->position());
  if (r < 0) return QToolTip::hideText();
  const OverviewLayer& l = layers_[static_cast<size_t>(r)];
  const int64_t k = std::llround(xAxis->pixelToCoord(event->position().x()));
  QString text = tr("Layer %1 \u00b7 %2 experts \u00b7 chosen K %3")
                     .arg(l.layer)
                     .arg(l.mergeHeights.size() + 1)
                     .arg(l.k);
  const double v = k >= 1 && k <= columnCount() ? cellValue(r, k) : std::numeric_limits<double>::quiet_NaN();
  if (!std::isnan(v)) text += "\n" + tr("K = %1: cut at %2 % of the top merge").arg(k).arg(100.0 * v, 0, 'f', 1);
  QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void LayerOverview::resizeEvent(QResizeEvent* event) {
  QCustomPlot::resizeEvent(event);
  updateRowTicks(false);
}

void LayerOverview::changeEvent(QEvent* event) {
  QCustomPlot::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    applyPlotStyle(this);
    styleAxis(scale_->axis(), this);
    updateCurrentMark();
    replot(QCustomPlot::rpQueuedReplot);
  } else if (event->type() == QEvent::LanguageChange) {
    retranslate();
    replot(QCustomPlot::rpQueuedReplot);
  }
}

}  // namespace widgets
}  // namespace moe
