#include "widgets/heatmap_view.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "widgets/cluster_palette.h"
#include "widgets/plot_style.h"

namespace moe {
namespace widgets {
namespace {

// Perceptually uniform, colour-blind safe (viridis), dark for small distances.
QCPColorGradient viridis() {
  QCPColorGradient g;
  g.clearColorStops();
  const QRgb stops[] = {0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725};
  for (int i = 0; i < 10; ++i) g.setColorStopAt(i / 9.0, QColor::fromRgb(stops[i]));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  return g;
}

}  // namespace

HeatmapView::HeatmapView(QWidget* parent) : QCustomPlot(parent) {
  setMouseTracking(true);
  setInteractions(QCP::Interactions());
  map_ = new QCPColorMap(xAxis, yAxis);
  map_->setInterpolate(false);
  map_->setTightBoundary(false);
  scale_ = new QCPColorScale(this);
  scale_->setType(QCPAxis::atRight);
  scale_->setBarWidth(12);
  scale_->setGradient(viridis());
  plotLayout()->addElement(0, 1, scale_);
  map_->setColorScale(scale_);
  map_->setGradient(viridis());
  auto* group = new QCPMarginGroup(this);
  axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  yAxis->setRangeReversed(true);
  xAxis->setLabel(tr("expert"));
  yAxis->setLabel(tr("expert"));
  xAxis->grid()->setVisible(false);
  yAxis->grid()->setVisible(false);
  hoverRow_ = new QCPItemRect(this);
  hoverRow_->setVisible(false);
  hoverRow_->setLayer("overlay");
  hoverColumn_ = nullptr;
  applyPlotStyle(this);
  styleAxis(scale_->axis(), this);
}

void HeatmapView::setData(const moe::Matrix& values, const std::vector<int64_t>& order,
                          const std::vector<double>& usage, const std::vector<int64_t>& clusters) {
  values_ = values;
  usage_ = usage;
  const int64_t n = values.rows;
  order_ = order;
  if (static_cast<int64_t>(order_.size()) != n) {
    order_.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order_[static_cast<size_t>(i)] = i;
  }
  map_->data()->setSize(static_cast<int>(n), static_cast<int>(n));
  map_->data()->setRange(QCPRange(0, std::max<int64_t>(n - 1, 1)), QCPRange(0, std::max<int64_t>(n - 1, 1)));
  double lo = 0, hi = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < n; ++c) {
      const double v = values(order_[static_cast<size_t>(r)], order_[static_cast<size_t>(c)]);
      map_->data()->setCell(static_cast<int>(c), static_cast<int>(r), v);
      if (r != c) {
        lo = (r == 0 && c == 1) ? v : std::min(lo, v);
        hi = (r == 0 && c == 1) ? v : std::max(hi, v);
      }
    }
  // The colour range follows the off-diagonal values, so the zero diagonal does not flatten them.
  if (n > 1 && hi > lo) scale_->setDataRange(QCPRange(lo, hi));
  else map_->rescaleDataRange(true);
  xAxis->setRange(-0.5, n - 0.5);
  yAxis->setRange(-0.5, n - 0.5);
  rebuildTicks();
  setClusters(clusters);
}

void HeatmapView::setValueLabel(const QString& label) {
  scale_->setLabel(label);
  replot(QCustomPlot::rpQueuedReplot);
}

QString HeatmapView::valueLabel() const { return scale_->label(); }

void HeatmapView::setHigherIsCloser(bool higherIsCloser) {
  const QCPColorGradient g = higherIsCloser ? viridis().inverted() : viridis();
  scale_->setGradient(g);
  map_->setGradient(g);
  replot(QCustomPlot::rpQueuedReplot);
}

QString HeatmapView::cellToolTip(int64_t r, int64_t c) const {
  const int64_t a = expertAt(r), b = expertAt(c);
  QString text = tr("Expert %1 \u2194 expert %2").arg(a).arg(b) + "\n" +
                 tr("%1: %2").arg(scale_->label().isEmpty() ? tr("Value") : scale_->label()).arg(values_(a, b), 0, 'g', 5);
  if (static_cast<int64_t>(usage_.size()) == size())
    text += "\n" + tr("Usage: %1 % / %2 %")
                       .arg(100.0 * usage_[static_cast<size_t>(a)], 0, 'f', 2)
                       .arg(100.0 * usage_[static_cast<size_t>(b)], 0, 'f', 2);
  return text;
}

void HeatmapView::rebuildTicks() {
  const int64_t n = size();
  const int64_t step = std::max<int64_t>(1, (n + 31) / 32);
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  for (int64_t p = 0; p < n; p += step) ticker->addTick(static_cast<double>(p), QString::number(order_[static_cast<size_t>(p)]));
  xAxis->setTicker(ticker);
  yAxis->setTicker(ticker);
  xAxis->setTickLabelRotation(n > 24 ? 90 : 0);
}

void HeatmapView::setClusters(const std::vector<int64_t>& clusters) {
  clusters_ = clusters;
  rebuildOutlines();
  setHighlightedExperts(highlighted_);
}

void HeatmapView::rebuildOutlines() {
  for (QCPItemRect* r : outlines_) removeItem(r);
  outlines_.clear();
  const int64_t n = size();
  if (static_cast<int64_t>(clusters_.size()) != n || n == 0) return;
  // Runs of equal cluster along the display order; outlined only when every cluster is one run.
  std::vector<std::pair<int64_t, int64_t>> runs;
  std::vector<int64_t> runCluster;
  for (int64_t p = 0; p < n; ++p) {
    const int64_t c = clusters_[static_cast<size_t>(order_[static_cast<size_t>(p)])];
    if (p > 0 && c == runCluster.back()) runs.back().second = p;
    else runs.push_back({p, p}), runCluster.push_back(c);
  }
  std::vector<int64_t> sorted = runCluster;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return;
  const bool dark = isDarkPalette(palette());
  for (size_t i = 0; i < runs.size(); ++i) {
    auto* rect = new QCPItemRect(this);
    rect->topLeft->setCoords(runs[i].first - 0.5, runs[i].first - 0.5);
    rect->bottomRight->setCoords(runs[i].second + 0.5, runs[i].second + 0.5);
    QPen pen(clusterColor(static_cast<int>(runCluster[i]), dark), 2.5);
    pen.setJoinStyle(Qt::MiterJoin);
    rect->setPen(pen);
    rect->setBrush(Qt::NoBrush);
    rect->setSelectable(false);
    outlines_.push_back(rect);
  }
  replot(QCustomPlot::rpQueuedReplot);
}

QColor HeatmapView::outlineColor(int block) const { return outlines_.at(static_cast<size_t>(block))->pen().color(); }

double HeatmapView::cellValue(int64_t row, int64_t column) const {
  return map_->data()->cell(static_cast<int>(column), static_cast<int>(row));
}

void HeatmapView::setHighlightedExperts(const std::vector<int64_t>& experts) {
  highlighted_ = experts;
  for (QCPItemRect* r : highlightItems_) removeItem(r);
  highlightItems_.clear();
  const int64_t n = size();
  std::vector<bool> on(static_cast<size_t>(n), false);
  for (int64_t e : experts)
    for (int64_t p = 0; p < n; ++p)
      if (order_[static_cast<size_t>(p)] == e) on[static_cast<size_t>(p)] = true;
  const QColor pen = palette().color(QPalette::Highlight).lighter(isDarkPalette(palette()) ? 140 : 100);
  for (int64_t p = 0; p < n;) {
    if (!on[static_cast<size_t>(p)]) { ++p; continue; }
    int64_t q = p;
    while (q + 1 < n && on[static_cast<size_t>(q + 1)]) ++q;
    auto* rect = new QCPItemRect(this);
    rect->setLayer("overlay");
    rect->topLeft->setCoords(p - 0.5, p - 0.5);
    rect->bottomRight->setCoords(q + 0.5, q + 0.5);
    rect->setPen(QPen(pen, 2, Qt::DashLine));
    QColor fill = pen;
    fill.setAlpha(50);
    rect->setBrush(fill);
    highlightItems_.push_back(rect);
    p = q + 1;
  }
  replot(QCustomPlot::rpQueuedReplot);
}

bool HeatmapView::cellAt(const QPointF& pixel, int64_t* row, int64_t* column) const {
  if (!axisRect()->rect().contains(pixel.toPoint())) return false;
  const int64_t c = std::llround(xAxis->pixelToCoord(pixel.x()));
  const int64_t r = std::llround(yAxis->pixelToCoord(pixel.y()));
  if (r < 0 || c < 0 || r >= size() || c >= size()) return false;
  *row = r;
  *column = c;
  return true;
}

void HeatmapView::mouseMoveEvent(QMouseEvent* event) {
  QCustomPlot::mouseMoveEvent(event);
  int64_t r = 0, c = 0;
  if (!cellAt(event->position(), &r, &c)) {
    hoverRow_->setVisible(false);
    QToolTip::hideText();
    replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  QToolTip::showText(event->globalPosition().toPoint(), cellToolTip(r, c), this);
  hoverRow_->topLeft->setCoords(c - 0.5, r - 0.5);
  hoverRow_->bottomRight->setCoords(c + 0.5, r + 0.5);
  hoverRow_->setPen(QPen(palette().color(QPalette::Base), 2));
  hoverRow_->setVisible(true);
  replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapView::mousePressEvent(QMouseEvent* event) {
  QCustomPlot::mousePressEvent(event);
  int64_t r = 0, c = 0;
  if (event->button() == Qt::LeftButton && cellAt(event->position(), &r, &c))
    emit expertsClicked(r == c ? std::vector<int64_t>{expertAt(r)} : std::vector<int64_t>{expertAt(r), expertAt(c)});
}

void HeatmapView::leaveEvent(QEvent* event) {
  QCustomPlot::leaveEvent(event);
  hoverRow_->setVisible(false);
  replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapView::changeEvent(QEvent* event) {
  QCustomPlot::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    applyPlotStyle(this);
    styleAxis(scale_->axis(), this);
    rebuildOutlines();
  } else if (event->type() == QEvent::LanguageChange) {
    // The value label comes from the caller, which retranslates it itself.
    xAxis->setLabel(tr("expert"));
    yAxis->setLabel(tr("expert"));
    replot(QCustomPlot::rpQueuedReplot);
  }
}

}  // namespace widgets
}  // namespace moe
