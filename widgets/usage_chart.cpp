#include "widgets/usage_chart.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <map>

#include "widgets/cluster_palette.h"
#include "widgets/plot_style.h"

namespace moe {
namespace widgets {

UsageChart::UsageChart(QWidget* parent) : QCustomPlot(parent) {
  setMouseTracking(true);
  // Zoom and pan along the expert axis only; the value axes always show the whole range.
  setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  axisRect()->setRangeDrag(Qt::Horizontal);
  axisRect()->setRangeZoom(Qt::Horizontal);
  axisRect()->setRangeDragAxes(xAxis, nullptr);
  axisRect()->setRangeZoomAxes(xAxis, nullptr);
  connect(xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, &UsageChart::clampRange);
  // The label spacing depends on the laid-out width, known only once a replot has laid it out.
  connect(this, &QCustomPlot::afterLayout, this, [this] {
    if (updateTicks(false)) replot(QCustomPlot::rpQueuedReplot);
  });
  yAxis->setLabel(tr("usage %"));
  yAxis2->setVisible(true);
  yAxis2->setLabel(tr("REAP score"));
  xAxis->setLabel(tr("expert"));
  xAxis->grid()->setVisible(false);
  // The legend sits in its own row above the plot, where it never hides a bar or the REAP line.
  legend->setVisible(true);
  legend->setBrush(Qt::NoBrush);
  legend->setBorderPen(Qt::NoPen);
  legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  legend->setMargins(QMargins(0, 2, 0, 0));
  plotLayout()->insertRow(0);
  plotLayout()->addElement(0, 0, legend);
  plotLayout()->setRowStretchFactor(0, 0.001);
  legend->setMaximumSize(QWIDGETSIZE_MAX, 24);
  note_ = new QCPItemText(this);
  note_->setLayer("overlay");
  note_->position->setType(QCPItemPosition::ptAxisRectRatio);
  note_->position->setCoords(0.99, 0.02);
  note_->setPositionAlignment(Qt::AlignTop | Qt::AlignRight);
  note_->setClipToAxisRect(true);
  note_->setVisible(false);
  applyPlotStyle(this);
}

void UsageChart::setData(const std::vector<double>& usage, const std::vector<double>& reap,
                         const std::vector<int64_t>& order, const std::vector<int64_t>& clusters) {
  const size_t before = shown_.size();
  usage_ = usage;
  reap_ = reap;
  order_ = order;
  clusters_ = clusters;
  if (order_.size() != usage_.size()) {
    order_.resize(usage_.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int64_t>(i);
  }
  rebuild();
  if (shown_.size() != before) fitAll();
}

void UsageChart::setHighlightedExperts(const std::vector<int64_t>& experts) {
  highlighted_ = experts;
  rebuild();
}

void UsageChart::setSortMode(SortMode mode) {
  sort_ = mode;
  rebuild();
}

void UsageChart::setTopN(int n) {
  topN_ = n;
  rebuild();
  fitAll();
}

void UsageChart::chooseShown() {
  const size_t n = usage_.size();
  const bool byReap = sort_ == SortMode::ByReap && reap_.size() == n;
  const auto key = [&](int64_t e) { return byReap ? reap_[static_cast<size_t>(e)] : usage_[static_cast<size_t>(e)]; };
  // Decreasing key, ties broken by the lower expert id so the choice is deterministic.
  const auto higher = [&](int64_t a, int64_t b) { return key(a) != key(b) ? key(a) > key(b) : a < b; };
  std::vector<int64_t> ranked(order_);
  std::sort(ranked.begin(), ranked.end(), higher);
  if (topN_ > 0 && static_cast<size_t>(topN_) < n) ranked.resize(static_cast<size_t>(topN_));
  if (sort_ != SortMode::LeafOrder) {
    shown_ = ranked;
    return;
  }
  std::vector<bool> keep(n, false);
  for (int64_t e : ranked) keep[static_cast<size_t>(e)] = true;
  shown_.clear();
  for (int64_t e : order_)
    if (keep[static_cast<size_t>(e)]) shown_.push_back(e);
}

QString UsageChart::hiddenNote() const {
  if (hiddenCount() <= 0) return QString();
  const bool byReap = sort_ == SortMode::ByReap && reap_.size() == usage_.size();
  return (byReap ? tr("top %1 of %2 experts by REAP score") : tr("top %1 of %2 experts by usage"))
             .arg(shown_.size())
             .arg(usage_.size()) +
         "\n" + tr("%n hidden", nullptr, hiddenCount());
}

void UsageChart::rebuild() {
  clearPlottables();
  chooseShown();
  const size_t n = shown_.size();
  const bool dark = isDarkPalette(palette());
  // Ranked over all experts, not just the shown ones, so the colours match the other views.
  const ClusterColoring coloring(clusters_.size() == usage_.size() ? clusters_ : std::vector<int64_t>{}, usage_);
  std::map<int64_t, QCPBars*> bars;  // one bar series per cluster colour
  double top = 0;
  for (size_t p = 0; p < n; ++p) {
    const int64_t e = shown_[p];
    const int64_t c = clusters_.size() == usage_.size() ? clusters_[static_cast<size_t>(e)] : -1;
    QCPBars*& b = bars[c];
    if (!b) {
      b = new QCPBars(xAxis, yAxis);
      const bool grouped = clusters_.size() == usage_.size();  // else one plain colour; -1: dropped
      const QColor color = grouped ? coloring.color(c, dark) : palette().color(QPalette::Highlight);
      b->setBrush(color);
      b->setPen(Qt::NoPen);
      b->setWidth(0.72);
      b->removeFromLegend();
    }
    b->addData(static_cast<double>(p), 100.0 * usage_[static_cast<size_t>(e)]);
    top = std::max(top, 100.0 * usage_[static_cast<size_t>(e)]);
  }
  if (!bars.empty()) {
    bars.begin()->second->setName(tr("usage frequency"));
    bars.begin()->second->addToLegend();
  }
  for (int64_t e : highlighted_) {
    const auto it = std::find(shown_.begin(), shown_.end(), e);
    if (it == shown_.end()) continue;
    auto* mark = new QCPBars(xAxis, yAxis);
    mark->setBrush(Qt::NoBrush);
    mark->setPen(QPen(palette().color(QPalette::WindowText), 1.5));
    mark->setWidth(0.86);
    mark->addData(static_cast<double>(it - shown_.begin()), 100.0 * usage_[static_cast<size_t>(e)]);
    mark->removeFromLegend();
  }
  if (reap_.size() == usage_.size() && n > 0) {
    auto* line = new QCPGraph(xAxis, yAxis2);
    const QColor c = dark ? QColor(240, 240, 240) : QColor(40, 40, 40);
    // One pixel: Qt strokes that on its fast cosmetic path. A 1.4-pixel antialiased line went
    // through the general rasteriser, 85 % of a replot (13 ms) that every drag's refresh paid.
    line->setPen(QPen(c, 1.0));
    // Hundreds of markers merge into a smear; the line alone reads better there.
    const double marker = n > 128 ? 0 : 5;
    if (marker > 0) line->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, c, palette().color(QPalette::Base), marker));
    line->setName(tr("REAP score"));
    double reapTop = 0;
    for (size_t p = 0; p < n; ++p) {
      line->addData(static_cast<double>(p), reap_[static_cast<size_t>(shown_[p])]);
      reapTop = std::max(reapTop, reap_[static_cast<size_t>(shown_[p])]);
    }
    yAxis2->setRange(0, reapTop > 0 ? reapTop * 1.15 : 1);
  }
  yAxis->setRange(0, top > 0 ? top * 1.15 : 1);
  note_->setText(hiddenNote());
  note_->setColor(palette().color(QPalette::WindowText));
  note_->setFont(font());
  note_->setVisible(hiddenCount() > 0);
  updateTicks(true);
  replot(QCustomPlot::rpQueuedReplot);
}

void UsageChart::fitAll() { xAxis->setRange(-0.6, static_cast<double>(shown_.size()) - 0.4); }

// Keeps the expert axis on the bars and at least a few bars wide.
void UsageChart::clampRange(const QCPRange& range) {
  if (shown_.empty()) return;
  const double lo = -0.6, hi = static_cast<double>(shown_.size()) - 0.4;
  const double full = hi - lo;
  const double span = std::clamp(range.size(), std::min(full, 4.0), full);
  const double start = std::clamp(range.center() - span / 2, lo, hi - span);
  const QCPRange clamped(start, start + span);
  if (std::abs(clamped.lower - range.lower) > 1e-9 || std::abs(clamped.upper - range.upper) > 1e-9) xAxis->setRange(clamped);
  else updateTicks(false);
}

// One label every 1-2-5 x 10^k bars, spaced wider than a label, so labels never overlap. Returns
// whether the labels changed (the plot must be drawn again).
bool UsageChart::updateTicks(bool force) {
  const size_t n = shown_.size();
  const QFontMetricsF fm(xAxis->tickLabelFont());
  double widest = 0;
  for (int64_t e : shown_) widest = std::max(widest, fm.horizontalAdvance(QString::number(e)));
  const double pixelsPerBar = axisRect()->width() / std::max(1e-9, xAxis->range().size());
  const bool horizontal = widest + 4 <= pixelsPerBar;
  const double need = (horizontal ? widest : fm.height()) + 4;
  size_t step = 0;
  for (size_t decade = 1; step == 0 && decade <= 1000000; decade *= 10)
    for (size_t m : {1, 2, 5})
      if (step == 0 && static_cast<double>(m * decade) * pixelsPerBar >= need) step = m * decade;
  step = std::max<size_t>(step, 1);
  if (!force && step == tickStep_ && horizontal == tickHorizontal_) return false;
  tickStep_ = step;
  tickHorizontal_ = horizontal;
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  for (size_t p = 0; p < n; p += step) ticker->addTick(static_cast<double>(p), QString::number(shown_[p]));
  xAxis->setTicker(ticker);
  xAxis->setTickLabelRotation(horizontal ? 0 : 90);
  return true;
}

void UsageChart::resizeEvent(QResizeEvent* event) {
  QCustomPlot::resizeEvent(event);
  updateTicks(false);
}

void UsageChart::mouseMoveEvent(QMouseEvent* event) {
  QCustomPlot::mouseMoveEvent(event);
  const int64_t p = std::llround(xAxis->pixelToCoord(event->position().x()));
  if (!axisRect()->rect().contains(event->position().toPoint()) || p < 0 || p >= static_cast<int64_t>(shown_.size())) {
    QToolTip::hideText();
    return;
  }
  const int64_t e = shown_[static_cast<size_t>(p)];
  QString text = tr("Expert %1").arg(e) + "\n" + tr("Usage: %1 %").arg(100.0 * usage_[static_cast<size_t>(e)], 0, 'f', 2);
  if (reap_.size() == usage_.size()) text += "\n" + tr("REAP score: %1").arg(reap_[static_cast<size_t>(e)], 0, 'g', 4);
  QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void UsageChart::mouseDoubleClickEvent(QMouseEvent* event) {
  QCustomPlot::mouseDoubleClickEvent(event);
  fitAll();
  replot(QCustomPlot::rpQueuedReplot);
}

void UsageChart::changeEvent(QEvent* event) {
  QCustomPlot::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    applyPlotStyle(this);
    rebuild();
  } else if (event->type() == QEvent::LanguageChange) {
    yAxis->setLabel(tr("usage %"));
    yAxis2->setLabel(tr("REAP score"));
    xAxis->setLabel(tr("expert"));
    rebuild();  // legend names and the note
  }
}

}  // namespace widgets
}  // namespace moe
