#include "widgets/heatmap_view.h"

#include <QKeyEvent>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <map>

#include "widgets/cluster_palette.h"
#include "widgets/plot_style.h"

namespace moe {
namespace widgets {
namespace {


constexpr double kTickLength = 4;   // label tick marks, pixels
constexpr double kLabelGap = 3;     // least space between two labels, pixels
constexpr double kMinVisibleCells = 3;

// Smallest 1, 2, 5 x 10^k step whose labels are at least `need` pixels apart.
int64_t labelStep(double need, double pixelsPerCell) {
  if (pixelsPerCell <= 0) return 1;
  for (int64_t decade = 1;; decade *= 10)
    for (int64_t m : {1, 2, 5})
      if (static_cast<double>(m * decade) * pixelsPerCell >= need) return m * decade;
}

}  // namespace

// Draws the axis labels itself (QCustomPlot's own are switched off) at draw time, when the final
// layout is known, so thinning always matches the pixels actually drawn.
class HeatmapAxisLabels : public QCPLayerable {
 public:
  explicit HeatmapAxisLabels(HeatmapView* view) : QCPLayerable(view, QStringLiteral("axes")), view_(view) {}

 protected:
  void applyDefaultAntialiasingHint(QCPPainter* painter) const override { painter->setAntialiasing(false); }
  void draw(QCPPainter* painter) override { view_->drawAxisLabels(painter); }

 private:
  HeatmapView* view_;
};

HeatmapView::HeatmapView(QWidget* parent) : QCustomPlot(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setInteractions(QCP::Interactions());
  map_ = new QCPColorMap(xAxis, yAxis);
  map_->setInterpolate(false);
  map_->setTightBoundary(false);
  scale_ = new QCPColorScale(this);
  scale_->setType(QCPAxis::atRight);
  scale_->setBarWidth(12);
  scale_->setGradient(viridisGradient());
  plotLayout()->addElement(0, 1, scale_);
  map_->setColorScale(scale_);
  map_->setGradient(viridisGradient());
  auto* group = new QCPMarginGroup(this);
  axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  yAxis->setRangeReversed(true);
  xAxis->setLabel(tr("expert"));
  yAxis->setLabel(tr("expert"));
  for (QCPAxis* axis : {xAxis, yAxis}) {
    axis->grid()->setVisible(false);
    axis->setTicks(false);
    axis->setTickLabels(false);
  }
  labels_ = new HeatmapAxisLabels(this);
  hoverRow_ = new QCPItemRect(this);
  hoverRow_->setVisible(false);
  hoverRow_->setLayer("overlay");
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
  clusters_ = clusters;
  rebuildMap();
  setHighlightedExperts(highlighted_);
}

int64_t HeatmapView::cellCount() const {
  return showingSummary() ? static_cast<int64_t>(summaryMembers_.size()) : size();
}

void HeatmapView::rebuildSummary() {
  summaryMembers_.clear();
  summaryValues_.clear();
  summaryRuns_.clear();
  const int64_t n = size();
  if (!summary_ || n == 0 || static_cast<int64_t>(clusters_.size()) != n) return;
  std::map<int64_t, size_t> index;  // cluster id -> summary position (first appearance)
  std::vector<size_t> positionOf(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) {
    const int64_t e = order_[static_cast<size_t>(p)];
    const auto it = index.emplace(clusters_[static_cast<size_t>(e)], summaryMembers_.size()).first;
    if (it->second == summaryMembers_.size()) summaryMembers_.emplace_back();
    summaryMembers_[it->second].push_back(e);
    positionOf[static_cast<size_t>(p)] = it->second;
  }
  const size_t k = summaryMembers_.size();
  summaryValues_.assign(k * k, 0.0);
  for (size_t a = 0; a < k; ++a)
    for (size_t b = 0; b < k; ++b) {
      double sum = 0;
      int64_t count = 0;
      for (int64_t i : summaryMembers_[a])
        for (int64_t j : summaryMembers_[b])
          if (i != j) sum += values_(i, j), ++count;
      const int64_t only = summaryMembers_[a].front();
      summaryValues_[a * k + b] = count > 0 ? sum / static_cast<double>(count) : values_(only, only);
    }
  // Leaf-range mapping needs each cluster to be one run of display positions.
  if (std::is_sorted(positionOf.begin(), positionOf.end())) {
    summaryRuns_.assign(k, {n, -1});
    for (int64_t p = 0; p < n; ++p) {
      auto& run = summaryRuns_[positionOf[static_cast<size_t>(p)]];
      run.first = std::min(run.first, p);
      run.second = std::max(run.second, p);
    }
  }
}

void HeatmapView::rebuildMap() {
  rebuildSummary();
  const int64_t m = cellCount();
  const bool summary = showingSummary();
  map_->data()->setSize(static_cast<int>(m), static_cast<int>(m));
  map_->data()->setRange(QCPRange(0, std::max<int64_t>(m - 1, 1)), QCPRange(0, std::max<int64_t>(m - 1, 1)));
  double lo = 0, hi = 0;
  bool first = true;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < m; ++c) {
      const double v = summary ? summaryValues_[static_cast<size_t>(r * m + c)]
                               : values_(order_[static_cast<size_t>(r)], order_[static_cast<size_t>(c)]);
      map_->data()->setCell(static_cast<int>(c), static_cast<int>(r), v);
      if (r != c) {
        lo = first ? v : std::min(lo, v);
        hi = first ? v : std::max(hi, v);
        first = false;
      }
    }
  // The colour range follows the off-diagonal values, so the zero diagonal does not flatten them.
  if (m > 1 && hi > lo) scale_->setDataRange(QCPRange(lo, hi));
  else map_->rescaleDataRange(true);
  // A new size starts from the whole matrix; the same size keeps the zoom (e.g. switching values).
  if (m != drawnCells_) applyRange(-0.5, static_cast<double>(m) - 0.5, false);
  drawnCells_ = m;
  reserveLabelSpace();
  rebuildOutlines();
}

void HeatmapView::setClusterSummary(bool on) {
  if (on == summary_) return;
  // Keep the same experts in view across the switch. Groups that are not runs of the display
  // order (REAM's) give summary positions no span of leaves: then the switch shows everything.
  const auto unmapped = [this] { return showingSummary() && summaryRuns_.empty(); };
  const QCPRange r = xAxis->range();
  const bool mapped = !unmapped();
  const double first = displayToLeaf(r.lower), last = displayToLeaf(r.upper);
  summary_ = on;
  rebuildMap();
  if (mapped && !unmapped()) applyRange(leafToDisplay(first), leafToDisplay(last), false);
  else applyRange(-0.5, static_cast<double>(cellCount()) - 0.5, false);
  setHighlightedExperts(highlighted_);
}

QString HeatmapView::groupName(int64_t expert) const {
  const int64_t c = clusters_[static_cast<size_t>(expert)];
  return c < 0 ? tr("dropped") : tr("c%1").arg(c);
}

QString HeatmapView::positionLabel(int64_t position) const {
  if (showingSummary()) return groupName(summaryMembers_[static_cast<size_t>(position)].front());
  return QString::number(order_[static_cast<size_t>(position)]);
}

void HeatmapView::reserveLabelSpace() {
  const QFontMetricsF fm(xAxis->tickLabelFont());
  maxLabelWidth_ = 0;
  for (int64_t p = 0; p < cellCount(); ++p) maxLabelWidth_ = std::max(maxLabelWidth_, fm.horizontalAdvance(positionLabel(p)));
  // The axis titles sit beyond the labels: QCustomPlot puts them labelPadding past the axis.
  const double band = kTickLength + 2 + std::max(maxLabelWidth_, fm.height()) + 4;
  xAxis->setLabelPadding(static_cast<int>(std::ceil(band)));
  yAxis->setLabelPadding(static_cast<int>(std::ceil(kTickLength + 2 + maxLabelWidth_ + 4)));
}

// Labels along both axes, thinned to a 1-2-5 step whose spacing exceeds the largest label extent
// along the axis, so neighbours can never overlap. Labels that would poke into the other axis'
// band (the corner) or past the plot are left out.
void HeatmapView::drawAxisLabels(QCPPainter* painter) {
  labelRects_.clear();
  const int64_t m = cellCount();
  if (m == 0) return;
  const QFont font = xAxis->tickLabelFont();
  const QFontMetricsF fm(font);
  const double h = fm.height();
  const QRectF area = axisRect()->rect();
  const QCPRange range = xAxis->range();
  const double ppcX = area.width() / range.size(), ppcY = area.height() / yAxis->range().size();
  const bool horizontalX = maxLabelWidth_ + kLabelGap <= ppcX;
  const int64_t stepX = labelStep((horizontalX ? maxLabelWidth_ : h) + kLabelGap, ppcX);
  const int64_t stepY = labelStep(h + kLabelGap, ppcY);
  const int64_t firstVisible = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(range.lower)));
  const int64_t lastVisible = std::min<int64_t>(m - 1, static_cast<int64_t>(std::floor(range.upper)));
  const double corner = kTickLength + 2;  // the other axis' labels start this far outside the plot
  painter->setFont(font);
  const QPen textPen(xAxis->tickLabelColor()), tickPen = xAxis->basePen();

  auto firstOf = [&](int64_t step) { return (firstVisible + step - 1) / step * step; };
  for (int64_t p = firstOf(stepX); p <= lastVisible; p += stepX) {
    const QString text = positionLabel(p);
    const double w = fm.horizontalAdvance(text), cx = xAxis->coordToPixel(static_cast<double>(p));
    const double top = area.bottom() + 1 + kTickLength + 2;
    const QRectF r = horizontalX ? QRectF(cx - w / 2, top, w, h) : QRectF(cx - h / 2, top, h, w);
    if (r.left() < area.left() - corner + 1 || r.right() > area.right()) continue;
    painter->setPen(tickPen);
    painter->drawLine(QPointF(cx, area.bottom() + 1), QPointF(cx, area.bottom() + 1 + kTickLength));
    painter->setPen(textPen);
    if (horizontalX) {
      painter->drawText(r, Qt::AlignCenter, text);
    } else {  // reads bottom to top, ending next to the axis
      painter->save();
      painter->translate(r.left(), r.bottom());
      painter->rotate(-90);
      painter->drawText(QRectF(0, 0, w, h), Qt::AlignRight | Qt::AlignVCenter, text);
      painter->restore();
    }
    labelRects_.push_back(r);
  }
  for (int64_t p = firstOf(stepY); p <= lastVisible; p += stepY) {
    const QString text = positionLabel(p);
    const double w = fm.horizontalAdvance(text), cy = yAxis->coordToPixel(static_cast<double>(p));
    const QRectF r(area.left() - 1 - kTickLength - 2 - w, cy - h / 2, w, h);
    if (r.top() < area.top() || r.bottom() > area.bottom() + corner - 1) continue;
    painter->setPen(tickPen);
    painter->drawLine(QPointF(area.left() - 1 - kTickLength, cy), QPointF(area.left() - 1, cy));
    painter->setPen(textPen);
    painter->drawText(r, Qt::AlignRight | Qt::AlignVCenter, text);
    labelRects_.push_back(r);
  }
}

void HeatmapView::setValueLabel(const QString& label) {
  scale_->setLabel(label);
  replot(QCustomPlot::rpQueuedReplot);
}

QString HeatmapView::valueLabel() const { return scale_->label(); }

void HeatmapView::setHigherIsCloser(bool higherIsCloser) {
  const QCPColorGradient g = higherIsCloser ? viridisGradient().inverted() : viridisGradient();
  scale_->setGradient(g);
  map_->setGradient(g);
  replot(QCustomPlot::rpQueuedReplot);
}

QString HeatmapView::cellToolTip(int64_t r, int64_t c) const {
  const QString label = scale_->label().isEmpty() ? tr("Value") : scale_->label();
  if (showingSummary()) {
    const auto& a = summaryMembers_.at(static_cast<size_t>(r));
    const auto& b = summaryMembers_.at(static_cast<size_t>(c));
    const auto name = [this](int64_t expert) {
      const int64_t g = clusters_[static_cast<size_t>(expert)];
      return g < 0 ? tr("dropped experts") : tr("cluster %1").arg(g);
    };
    return tr("%1 \u2194 %2").arg(name(a.front()), name(b.front())) +
           "\n" + tr("Mean %1: %2").arg(label).arg(cellValue(r, c), 0, 'g', 5) + "\n" +
           tr("%1 and %2 experts").arg(a.size()).arg(b.size());
  }
  const int64_t a = expertAt(r), b = expertAt(c);
  QString text = tr("Expert %1 \u2194 expert %2").arg(a).arg(b) + "\n" + tr("%1: %2").arg(label).arg(values_(a, b), 0, 'g', 5);
  if (static_cast<int64_t>(usage_.size()) == size())
    text += "\n" + tr("Usage: %1 % / %2 %")
                       .arg(100.0 * usage_[static_cast<size_t>(a)], 0, 'f', 2)
                       .arg(100.0 * usage_[static_cast<size_t>(b)], 0, 'f', 2);
  return text;
}

void HeatmapView::setClusters(const std::vector<int64_t>& clusters) {
  clusters_ = clusters;
  if (summary_) rebuildMap();  // the summary's cells are the clusters
  else rebuildOutlines();
  setHighlightedExperts(highlighted_);
}

void HeatmapView::rebuildOutlines() {
  // The rectangles are reused and the surplus hidden: removing and creating one item per cluster
  // on every cut-line drag step (O(K) removals of O(items) each) was a millisecond per frame.
  outlinesShown_ = 0;
  const auto hideRest = [this] {
    for (size_t i = outlinesShown_; i < outlines_.size(); ++i) outlines_[i]->setVisible(false);
    replot(QCustomPlot::rpQueuedReplot);
  };
  const int64_t n = size();
  if (showingSummary() || static_cast<int64_t>(clusters_.size()) != n || n == 0) return hideRest();
  // Runs of equal cluster along the display order; outlined only when every cluster is one run.
  // Dropped experts (-1) are in no cluster: not outlined.
  std::vector<std::pair<int64_t, int64_t>> runs;
  std::vector<int64_t> runCluster;
  for (int64_t p = 0; p < n; ++p) {
    const int64_t c = clusters_[static_cast<size_t>(order_[static_cast<size_t>(p)])];
    if (c < 0) continue;
    if (p > 0 && !runs.empty() && runs.back().second == p - 1 && c == runCluster.back()) runs.back().second = p;
    else runs.push_back({p, p}), runCluster.push_back(c);
  }
  std::vector<int64_t> sorted = runCluster;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return hideRest();
  const bool dark = isDarkPalette(palette());
  const ClusterColoring coloring(clusters_, usage_);  // the same colours as the other views
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i == outlines_.size()) {
      auto* created = new QCPItemRect(this);
      created->setBrush(Qt::NoBrush);
      created->setSelectable(false);
      created->setAntialiased(false);  // axis-aligned: crisp without, and no stroker pass per frame
      outlines_.push_back(created);
    }
    QCPItemRect* rect = outlines_[i];
    rect->topLeft->setCoords(runs[i].first - 0.5, runs[i].first - 0.5);
    rect->bottomRight->setCoords(runs[i].second + 0.5, runs[i].second + 0.5);
    QPen pen(coloring.color(runCluster[i], dark), 2);
    pen.setJoinStyle(Qt::MiterJoin);
    rect->setPen(pen);
    rect->setVisible(true);
  }
  outlinesShown_ = runs.size();
  hideRest();
}

QColor HeatmapView::outlineColor(int block) const { return outlines_.at(static_cast<size_t>(block))->pen().color(); }

double HeatmapView::cellValue(int64_t row, int64_t column) const {
  return map_->data()->cell(static_cast<int>(column), static_cast<int>(row));
}

std::vector<int64_t> HeatmapView::expertsAt(int64_t position) const {
  if (showingSummary()) return summaryMembers_.at(static_cast<size_t>(position));
  return {expertAt(position)};
}

void HeatmapView::setHighlightedExperts(const std::vector<int64_t>& experts) {
  highlighted_ = experts;
  for (QCPItemRect* r : highlightItems_) removeItem(r);
  highlightItems_.clear();
  const int64_t m = cellCount();
  std::vector<bool> on(static_cast<size_t>(m), false);
  for (int64_t p = 0; p < m; ++p)
    for (int64_t e : expertsAt(p))
      if (std::find(experts.begin(), experts.end(), e) != experts.end()) on[static_cast<size_t>(p)] = true;
  const QColor pen = palette().color(QPalette::Highlight).lighter(isDarkPalette(palette()) ? 140 : 100);
  for (int64_t p = 0; p < m;) {
    if (!on[static_cast<size_t>(p)]) { ++p; continue; }
    int64_t q = p;
    while (q + 1 < m && on[static_cast<size_t>(q + 1)]) ++q;
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

// Display units are cells of the colour map; leaf units are expert positions. They differ only in
// the summary, where cluster a (cell a - 0.5 .. a + 0.5) covers its run of leaf positions, mapped
// linearly in between so that a range follows the same experts in both modes.
double HeatmapView::displayToLeaf(double x) const {
  if (!showingSummary() || summaryRuns_.empty()) return x;
  const int64_t k = static_cast<int64_t>(summaryRuns_.size());
  const int64_t a = std::clamp<int64_t>(std::llround(std::floor(x + 0.5)), 0, k - 1);
  const auto& run = summaryRuns_[static_cast<size_t>(a)];
  const double t = x - (static_cast<double>(a) - 0.5);
  return static_cast<double>(run.first) - 0.5 + t * static_cast<double>(run.second - run.first + 1);
}

double HeatmapView::leafToDisplay(double x) const {
  if (!showingSummary() || summaryRuns_.empty()) return x;
  size_t a = 0;
  while (a + 1 < summaryRuns_.size() && x > static_cast<double>(summaryRuns_[a].second) + 0.5) ++a;
  const auto& run = summaryRuns_[a];
  const double t = (x - (static_cast<double>(run.first) - 0.5)) / static_cast<double>(run.second - run.first + 1);
  return static_cast<double>(a) - 0.5 + t;
}

void HeatmapView::applyRange(double lo, double hi, bool user) {
  const double full = static_cast<double>(cellCount());
  if (full <= 0) return;
  if (hi < lo) std::swap(lo, hi);
  const double span = std::clamp(hi - lo, std::min(full, kMinVisibleCells), full);
  lo = std::clamp(0.5 * (lo + hi) - 0.5 * span, -0.5, full - 0.5 - span);
  const QCPRange range(lo, lo + span);
  xAxis->setRange(range);
  yAxis->setRange(range);
  replot(QCustomPlot::rpQueuedReplot);
  if (user && !(showingSummary() && summaryRuns_.empty()))
    emit leafRangeChanged(displayToLeaf(range.lower), displayToLeaf(range.upper));
}

void HeatmapView::setLeafRange(double first, double last) {
  if (showingSummary() && summaryRuns_.empty()) return;  // clusters not contiguous: no leaf mapping
  applyRange(leafToDisplay(first), leafToDisplay(last), false);
}

void HeatmapView::fitAll() { applyRange(-0.5, static_cast<double>(cellCount()) - 0.5, true); }

void HeatmapView::zoomBy(double factor, double centre) {
  const QCPRange r = xAxis->range();
  applyRange(centre - (centre - r.lower) * factor, centre + (r.upper - centre) * factor, true);
}

bool HeatmapView::cellAt(const QPointF& pixel, int64_t* row, int64_t* column) const {
  if (!axisRect()->rect().contains(pixel.toPoint())) return false;
  const int64_t c = std::llround(xAxis->pixelToCoord(pixel.x()));
  const int64_t r = std::llround(yAxis->pixelToCoord(pixel.y()));
  if (r < 0 || c < 0 || r >= cellCount() || c >= cellCount()) return false;
  *row = r;
  *column = c;
  return true;
}

void HeatmapView::mouseMoveEvent(QMouseEvent* event) {
  QCustomPlot::mouseMoveEvent(event);
  if (pressed_ && (event->buttons() & Qt::LeftButton)) {
    const QPointF d = event->position() - pressPixel_;
    if (!dragging_ && std::abs(d.x()) + std::abs(d.y()) > 4) dragging_ = true;
    if (dragging_) {
      // Both axes show one range: follow whichever direction the hand moved more.
      const QRect area = axisRect()->rect();
      const double dx = -d.x() * pressRange_.size() / std::max(1, area.width());
      const double dy = -d.y() * pressRange_.size() / std::max(1, area.height());
      const double shift = std::abs(dx) >= std::abs(dy) ? dx : dy;
      applyRange(pressRange_.lower + shift, pressRange_.upper + shift, true);
      QToolTip::hideText();
      return;
    }
  }
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
  if (event->button() != Qt::LeftButton) return;
  pressed_ = true;
  dragging_ = false;
  pressPixel_ = event->position();
  pressRange_ = xAxis->range();
}

// A click (press and release without dragging) selects the cell's experts.
void HeatmapView::mouseReleaseEvent(QMouseEvent* event) {
  QCustomPlot::mouseReleaseEvent(event);
  if (event->button() != Qt::LeftButton) return;
  const bool click = pressed_ && !dragging_;
  pressed_ = dragging_ = false;
  int64_t r = 0, c = 0;
  if (!click || !cellAt(event->position(), &r, &c)) return;
  std::vector<int64_t> experts = expertsAt(r);
  if (r != c)
    for (int64_t e : expertsAt(c)) experts.push_back(e);
  emit expertsClicked(experts);
}

void HeatmapView::mouseDoubleClickEvent(QMouseEvent* event) {
  QCustomPlot::mouseDoubleClickEvent(event);
  if (event->button() == Qt::LeftButton) fitAll();
}

void HeatmapView::wheelEvent(QWheelEvent* event) {
  const double steps = event->angleDelta().y() / 120.0;
  if (steps == 0) return QCustomPlot::wheelEvent(event);
  const QPointF pos = event->position();
  const double centre = axisRect()->rect().contains(pos.toPoint()) ? xAxis->pixelToCoord(pos.x()) : xAxis->range().center();
  zoomBy(std::pow(0.8, steps), centre);
  event->accept();
}

void HeatmapView::keyPressEvent(QKeyEvent* event) {
  const QCPRange r = xAxis->range();
  const double pan = 0.1 * r.size();
  switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomBy(0.8, r.center()); break;
    case Qt::Key_Minus: zoomBy(1.25, r.center()); break;
    case Qt::Key_Left:
    case Qt::Key_Up: applyRange(r.lower - pan, r.upper - pan, true); break;
    case Qt::Key_Right:
    case Qt::Key_Down: applyRange(r.lower + pan, r.upper + pan, true); break;
    case Qt::Key_0:
    case Qt::Key_Home: fitAll(); break;
    default: return QCustomPlot::keyPressEvent(event);
  }
  event->accept();
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
  } else if (event->type() == QEvent::FontChange) {
    applyPlotStyle(this);
    reserveLabelSpace();
    replot(QCustomPlot::rpQueuedReplot);
  } else if (event->type() == QEvent::LanguageChange) {
    // The value label comes from the caller, which retranslates it itself.
    xAxis->setLabel(tr("expert"));
    yAxis->setLabel(tr("expert"));
    reserveLabelSpace();
    replot(QCustomPlot::rpQueuedReplot);
  }
}

}  // namespace widgets
}  // namespace moe
