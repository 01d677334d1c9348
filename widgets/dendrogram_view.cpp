#include "widgets/dendrogram_view.h"

#include <QAction>
#include <QContextMenuEvent>
#include <QMenu>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "widgets/dendrogram_item.h"
#include "widgets/plot_style.h"

namespace moe {
namespace widgets {
namespace {

constexpr double kGrabPixels = 6.0;
constexpr double kPanThreshold = 4.0;   // pixels a press moves before it is a pan, not a click
constexpr double kMinLeafSpan = 4.0;    // deepest zoom, in leaves
constexpr int64_t kOverviewFrom = 33;   // trees this size and up get the overview strip
constexpr int kOverviewPixels = 30;

double distanceToSegment(const QPointF& p, const QPointF& a, const QPointF& b) {
  const QPointF ab = b - a;
  const double len2 = QPointF::dotProduct(ab, ab);
  const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / len2, 0.0, 1.0) : 0.0;
  const QPointF d = p - (a + t * ab);
  return std::hypot(d.x(), d.y());
}

}  // namespace

DendrogramView::DendrogramView(QWidget* parent) : QCustomPlot(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setInteractions(QCP::Interactions());
  overview_ = new QCPAxisRect(this, true);
  for (QCPAxis* axis : overview_->axes()) axis->setVisible(false);
  overview_->setRangeDrag(Qt::Orientations());
  overview_->setRangeZoom(Qt::Orientations());
  marginGroup_ = new QCPMarginGroup(this);
  treeItem_ = new DendrogramItem(this, DendrogramItem::Part::Tree);
  treeItem_->setClipAxisRect(axisRect());
  labelItem_ = new DendrogramItem(this, DendrogramItem::Part::Labels);
  labelItem_->setClipToAxisRect(false);
  labelItem_->setLayer("axes");
  overviewItem_ = new DendrogramItem(this, DendrogramItem::Part::Overview);
  overviewItem_->setClipAxisRect(overview_);
  cutLine_ = new QCPItemStraightLine(this);
  cutLine_->setLayer("overlay");
  cutLine_->setClipAxisRect(axisRect());
  cutLabel_ = new QCPItemText(this);
  cutLabel_->setLayer("overlay");
  cutLabel_->setClipAxisRect(axisRect());
  cutLabel_->setPadding(QMargins(4, 2, 4, 2));
  legend_ = new QCPItemText(this);
  legend_->setLayer("overlay");
  legend_->setClipAxisRect(axisRect());
  legend_->position->setType(QCPItemPosition::ptAxisRectRatio);
  legend_->position->setAxisRect(axisRect());
  legend_->position->setCoords(0.005, 0.01);
  legend_->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
  legend_->setPadding(QMargins(4, 2, 4, 2));
  legend_->setVisible(false);

  fitAction_ = new QAction(this);
  connect(fitAction_, &QAction::triggered, this, &DendrogramView::fitAll);
  foldAllAction_ = new QAction(this);
  foldAllAction_->setCheckable(true);
  connect(foldAllAction_, &QAction::toggled, this, &DendrogramView::setFoldAll);
  horizontalAction_ = new QAction(this);
  horizontalAction_->setCheckable(true);
  connect(horizontalAction_, &QAction::toggled, this,
          [this](bool on) { setOrientation(on ? Qt::Horizontal : Qt::Vertical); });
  // The labels are painted by labelItem_ in the room reserved here, between the axis and its title.
  connect(this, &QCustomPlot::beforeReplot, this, [this] { leafAxis()->setLabelPadding(static_cast<int>(labelExtent()) + 8); });

  applyPlotStyle(this);
  setupAxes();
  retranslate();
  restyle();
}

QCPAxis* DendrogramView::leafAxis() const { return orientation_ == Qt::Vertical ? xAxis : yAxis; }
QCPAxis* DendrogramView::heightAxis() const { return orientation_ == Qt::Vertical ? yAxis : xAxis; }
QCPAxis* DendrogramView::overviewLeafAxis() const {
  return overview_->axis(orientation_ == Qt::Vertical ? QCPAxis::atBottom : QCPAxis::atLeft);
}
QCPAxis* DendrogramView::overviewHeightAxis() const {
  return overview_->axis(orientation_ == Qt::Vertical ? QCPAxis::atLeft : QCPAxis::atBottom);
}
QCPRange DendrogramView::leafRange() const { return leafAxis()->range(); }

QPointF DendrogramView::toPixel(double leafPosition, double height) const {
  if (orientation_ == Qt::Vertical) return {xAxis->coordToPixel(leafPosition), yAxis->coordToPixel(height)};
  return {xAxis->coordToPixel(height), yAxis->coordToPixel(leafPosition)};
}

QPointF DendrogramView::overviewPixel(double leafPosition, double height) const {
  const double a = overviewLeafAxis()->coordToPixel(leafPosition), b = overviewHeightAxis()->coordToPixel(height);
  return orientation_ == Qt::Vertical ? QPointF(a, b) : QPointF(b, a);
}

double DendrogramView::leafCoordAt(const QPointF& p) const {
  return leafAxis()->pixelToCoord(orientation_ == Qt::Vertical ? p.x() : p.y());
}
double DendrogramView::heightCoordAt(const QPointF& p) const { return heightAxis()->pixelToCoord(pixelAlongHeight(p)); }
double DendrogramView::pixelAlongHeight(const QPointF& p) const { return orientation_ == Qt::Vertical ? p.y() : p.x(); }
double DendrogramView::cutLinePixel() const { return heightAxis()->coordToPixel(cutHeight_); }

double DendrogramView::pixelsPerLeaf() const {
  const QRect r = axisRect()->rect();
  const double length = orientation_ == Qt::Vertical ? r.width() : r.height();
  return length / std::max(1e-9, leafRange().size());
}

bool DendrogramView::nearCutLine(const QPointF& p) const {
  return axisRect()->rect().contains(p.toPoint()) && std::abs(pixelAlongHeight(p) - cutLinePixel()) <= kGrabPixels;
}

QCPRange DendrogramView::fullLeafRange() const {
  return {-0.7, std::max<double>(1.0, static_cast<double>(tree_.n)) - 0.3};
}

QCPRange DendrogramView::fullHeightRange() const {
  const double top = tree_.n > 1 ? tree_.nodes[static_cast<size_t>(tree_.root)].height : 1.0;
  // A little room below zero so that the leaf markers are drawn whole.
  const double span = (top > 0 ? top : 1.0) * 1.12;
  return {-0.02 * span, span};
}

void DendrogramView::setupAxes() {
  QCPAxis* leaves = leafAxis();
  QCPAxis* heights = heightAxis();
  leaves->setTicks(false);
  leaves->setTickLabels(false);
  leaves->setSubTicks(false);
  leaves->grid()->setVisible(false);
  heights->setTicks(true);
  heights->setTickLabels(true);
  heights->setSubTicks(true);
  heights->setLabelPadding(5);
  heights->grid()->setVisible(true);
  heights->setTicker(QSharedPointer<QCPAxisTicker>::create());
  // Horizontal: leaf 0 at the top, like reading a list.
  xAxis->setRangeReversed(false);
  yAxis->setRangeReversed(orientation_ == Qt::Horizontal);
  overviewLeafAxis()->setRangeReversed(orientation_ == Qt::Horizontal);
  overviewHeightAxis()->setRangeReversed(false);
  if (orientation_ == Qt::Vertical) {
    cutLabel_->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    cutLabel_->position->setTypeY(QCPItemPosition::ptPlotCoords);
    cutLabel_->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
  } else {
    cutLabel_->position->setTypeX(QCPItemPosition::ptPlotCoords);
    cutLabel_->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    cutLabel_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  }
  retranslate();
}

void DendrogramView::placeOverview() {
  if (overview_->layout()) {
    plotLayout()->take(overview_);
    plotLayout()->simplify();
  }
  overview_->setMarginGroup(QCP::msAll, nullptr);
  axisRect()->setMarginGroup(QCP::msAll, nullptr);
  const bool show = tree_.n >= kOverviewFrom;
  overviewItem_->setVisible(show);
  if (!show) return;
  const QCP::MarginSides shared =
      orientation_ == Qt::Vertical ? (QCP::msLeft | QCP::msRight) : (QCP::msTop | QCP::msBottom);
  if (orientation_ == Qt::Vertical) {
    plotLayout()->addElement(1, 0, overview_);
    plotLayout()->setRowStretchFactor(1, 0.001);
    overview_->setMinimumSize(0, kOverviewPixels);
    overview_->setMaximumSize(QWIDGETSIZE_MAX, kOverviewPixels);
    overview_->setMargins(QMargins(0, 2, 0, 6));
  } else {
    plotLayout()->addElement(0, 1, overview_);
    plotLayout()->setColumnStretchFactor(1, 0.001);
    overview_->setMinimumSize(kOverviewPixels, 0);
    overview_->setMaximumSize(kOverviewPixels, QWIDGETSIZE_MAX);
    overview_->setMargins(QMargins(6, 0, 6, 0));
  }
  overview_->setAutoMargins(shared);
  overview_->setMarginGroup(shared, marginGroup_);
  axisRect()->setMarginGroup(shared, marginGroup_);
  overviewLeafAxis()->setRange(fullLeafRange());
  const QCPRange h = fullHeightRange();
  overviewHeightAxis()->setRange(-0.04 * h.upper, h.upper);
}

void DendrogramView::setTree(const moe::Linkage& linkage, const std::vector<double>& usage) {
  linkage_ = linkage;
  usage_ = usage;
  tree_ = moe::buildTree(linkage_);
  hovered_ = -1;
  selected_ = -1;
  revealed_ = -1;
  foldToggled_.clear();
  if (static_cast<int64_t>(clusters_.size()) != tree_.n) clusters_.clear();
  updateClusterNodes();
  placeOverview();
  leafAxis()->setRange(fullLeafRange());
  heightAxis()->setRange(fullHeightRange());
  placeCutLine(heightForK(k_));
  restyle();
}

double DendrogramView::heightForK(int64_t k) const {
  const int64_t n = tree_.n;
  const auto& m = linkage_.merges;
  if (n <= 1 || m.empty()) return 0.5;
  const double top = m.back().height > 0 ? m.back().height : 1.0;
  if (k <= 1) return m.back().height + 0.06 * top;
  if (k >= n) return m.front().height * 0.5;
  const double lo = m[static_cast<size_t>(n - k - 1)].height, hi = m[static_cast<size_t>(n - k)].height;
  return 0.5 * (lo + hi);
}

void DendrogramView::setClusters(int64_t k, const std::vector<int64_t>& clusters) {
  k_ = k;
  clusters_ = static_cast<int64_t>(clusters.size()) == tree_.n ? clusters : std::vector<int64_t>{};
  updateClusterNodes();
  if (!dragging_) placeCutLine(heightForK(k_));
  else placeCutLine(cutHeight_);
  restyle();
}

void DendrogramView::updateClusterNodes() {
  const int64_t n = tree_.n;
  coloring_ = ClusterColoring(clusters_, usage_);
  nodeCluster_.assign(tree_.nodes.size(), -1);
  clusterRoot_.assign(static_cast<size_t>(coloring_.clusterCount()), -1);
  if (!clusters_.empty()) {
    // Children have smaller ids than their parent, so one pass in id order is bottom-up.
    for (int64_t id = 0; id < static_cast<int64_t>(tree_.nodes.size()); ++id) {
      const moe::TreeNode& node = tree_.nodes[static_cast<size_t>(id)];
      if (id < n) {
        nodeCluster_[static_cast<size_t>(id)] = clusters_[static_cast<size_t>(id)];
      } else {
        const int64_t l = nodeCluster_[static_cast<size_t>(node.left)], r = nodeCluster_[static_cast<size_t>(node.right)];
        nodeCluster_[static_cast<size_t>(id)] = l == r ? l : -1;
      }
    }
    // A cluster can fold when it is exactly one subtree (always so for cuts of the dendrogram).
    for (const moe::TreeNode& node : tree_.nodes) {
      const int64_t c = nodeCluster_[static_cast<size_t>(node.id)];
      if (c < 0) continue;
      const bool top = node.parent < 0 || nodeCluster_[static_cast<size_t>(node.parent)] != c;
      if (top && node.size == coloring_.memberCount(c)) clusterRoot_[static_cast<size_t>(c)] = node.id;
    }
  }
  updateFolding();
  updateLegend();
}

bool DendrogramView::isClusterFolded(int64_t cluster) const {
  if (cluster < 0 || cluster >= static_cast<int64_t>(clusterRoot_.size())) return false;
  const int64_t root = clusterRoot_[static_cast<size_t>(cluster)];
  if (root < 0 || tree_.nodes[static_cast<size_t>(root)].size < 2) return false;
  return foldAll_ != (foldToggled_.count(root) > 0);
}

bool DendrogramView::isFoldedRoot(int64_t node) const {
  const int64_t c = clusterOfNode(node);
  return c >= 0 && clusterRoot_[static_cast<size_t>(c)] == node && isClusterFolded(c);
}

int64_t DendrogramView::clusterOfNode(int64_t node) const {
  return node >= 0 && node < static_cast<int64_t>(nodeCluster_.size()) ? nodeCluster_[static_cast<size_t>(node)] : -1;
}

void DendrogramView::updateFolding() {
  hiddenBy_.assign(tree_.nodes.size(), -1);
  for (size_t c = 0; c < clusterRoot_.size(); ++c) {
    if (!isClusterFolded(static_cast<int64_t>(c))) continue;
    const int64_t root = clusterRoot_[c];
    std::vector<int64_t> stack = {tree_.nodes[static_cast<size_t>(root)].left, tree_.nodes[static_cast<size_t>(root)].right};
    while (!stack.empty()) {
      const int64_t id = stack.back();
      stack.pop_back();
      if (id < 0) continue;
      hiddenBy_[static_cast<size_t>(id)] = root;
      stack.push_back(tree_.nodes[static_cast<size_t>(id)].left);
      stack.push_back(tree_.nodes[static_cast<size_t>(id)].right);
    }
  }
  if (hovered_ >= 0 && hiddenBy_[static_cast<size_t>(hovered_)] >= 0) hovered_ = -1;
}

void DendrogramView::setFoldAll(bool folded) {
  foldAll_ = folded;
  foldToggled_.clear();
  {
    const QSignalBlocker block(foldAllAction_);
    foldAllAction_->setChecked(folded);
  }
  updateFolding();
  replot(QCustomPlot::rpQueuedReplot);
}

void DendrogramView::setClusterFolded(int64_t cluster, bool folded) {
  if (cluster < 0 || cluster >= static_cast<int64_t>(clusterRoot_.size())) return;
  const int64_t root = clusterRoot_[static_cast<size_t>(cluster)];
  if (root < 0) return;
  if (folded != foldAll_) foldToggled_.insert(root);
  else foldToggled_.erase(root);
  updateFolding();
  replot(QCustomPlot::rpQueuedReplot);
}

QRectF DendrogramView::foldedNodeRect(int64_t cluster) const {
  if (!isClusterFolded(cluster)) return {};
  const moe::TreeNode& root = tree_.nodes[static_cast<size_t>(clusterRoot_[static_cast<size_t>(cluster)])];
  const double first = tree_.nodes[static_cast<size_t>(root.members.front())].position;
  const double last = tree_.nodes[static_cast<size_t>(root.members.back())].position;
  QRectF r = QRectF(toPixel(first - 0.35, 0), toPixel(last + 0.35, root.height)).normalized();
  // Folded clusters of tiny merge height stay easy to hit.
  const double grow = 3.0;
  return r.adjusted(-grow, -grow, grow, grow);
}

void DendrogramView::updateLegend() {
  const QString text = colorLegend();
  legend_->setText(text);
  legend_->setVisible(!text.isEmpty());
}

QString DendrogramView::colorLegend() const { return coloring_.legendText(); }

void DendrogramView::placeCutLine(double height) {
  cutHeight_ = height;
  if (orientation_ == Qt::Vertical) {
    cutLine_->point1->setCoords(0, height);
    cutLine_->point2->setCoords(1, height);
    cutLabel_->position->setCoords(0.995, height);
  } else {
    cutLine_->point1->setCoords(height, 0);
    cutLine_->point2->setCoords(height, 1);
    cutLabel_->position->setCoords(height, 0.995);
  }
  cutLabel_->setText(tr("K = %1").arg(k_));
  replot(QCustomPlot::rpQueuedReplot);
}

QColor DendrogramView::nodeColor(int64_t node) const {
  const int64_t c = clusterOfNode(node);
  // A leaf outside every group is an expert the plan drops (an inner node of -1 spans groups).
  if (c < 0 && node < tree_.n && !clusters_.empty()) return droppedColor(isDarkPalette(palette()));
  if (c < 0) return neutralColor(palette());
  return coloring_.color(c, isDarkPalette(palette()));
}

QColor DendrogramView::leafColor(int64_t expert) const { return nodeColor(expert); }
QColor DendrogramView::branchColor(int64_t node) const { return nodeColor(node); }

bool DendrogramView::inSubtree(int64_t node, int64_t root) const {
  for (int64_t x = node; x >= 0; x = tree_.nodes[static_cast<size_t>(x)].parent)
    if (x == root) return true;
  return false;
}

void DendrogramView::restyle() {
  const QPalette& pal = palette();
  QColor accent = isDarkPalette(pal) ? QColor(255, 120, 110) : QColor(200, 40, 40);
  cutLine_->setPen(QPen(accent, 1.6, Qt::DashLine));
  cutLabel_->setColor(accent);
  QFont f = font();
  f.setBold(true);
  cutLabel_->setFont(f);
  legend_->setColor(pal.color(QPalette::WindowText));
  QColor legendBack = pal.color(QPalette::Base);
  legendBack.setAlpha(210);
  legend_->setBrush(legendBack);
  legend_->setFont(font());
  overview_->setBackground(pal.brush(QPalette::AlternateBase));
  replot(QCustomPlot::rpQueuedReplot);
}

void DendrogramView::retranslate() {
  heightAxis()->setLabel(tr("merge height"));
  leafAxis()->setLabel(tr("expert (usage %)"));
  if (cutLabel_) cutLabel_->setText(tr("K = %1").arg(k_));
  fitAction_->setText(tr("Fit whole tree"));
  foldAllAction_->setText(tr("Fold all clusters"));
  horizontalAction_->setText(tr("Horizontal layout"));
  updateLegend();
}

void DendrogramView::setSelectedExperts(const std::vector<int64_t>& experts) {
  selectedExperts_ = experts;
  selected_ = -1;
  std::vector<int64_t> want = experts;
  std::sort(want.begin(), want.end());
  for (const moe::TreeNode& node : tree_.nodes) {
    if (want.empty() || node.size != static_cast<int64_t>(want.size())) continue;
    std::vector<int64_t> m = node.members;
    std::sort(m.begin(), m.end());
    if (m == want) { selected_ = node.id; break; }
  }
  replot(QCustomPlot::rpQueuedReplot);
}

// ---- zoom and pan ----

void DendrogramView::applyLeafRange(QCPRange range, bool notify) {
  if (tree_.n == 0) return;
  const QCPRange full = fullLeafRange();
  const double span = std::clamp(range.size(), std::min(kMinLeafSpan, full.size()), full.size());
  const double lower = std::clamp(range.center() - span / 2, full.lower, full.upper - span);
  const QCPRange r(lower, lower + span);
  if (r == leafAxis()->range()) return;
  leafAxis()->setRange(r);
  replot(QCustomPlot::rpQueuedReplot);
  if (notify) emit leafRangeChanged(r.lower, r.upper);
}

void DendrogramView::setLeafRange(double first, double last) { applyLeafRange(QCPRange(first, last), false); }

void DendrogramView::zoomLeaves(double factor, double anchor) {
  if (factor <= 0) return;
  const QCPRange r = leafRange();
  applyLeafRange(QCPRange(anchor - (anchor - r.lower) / factor, anchor + (r.upper - anchor) / factor), true);
}

void DendrogramView::fitAll() {
  heightAxis()->setRange(fullHeightRange());
  applyLeafRange(fullLeafRange(), true);
  replot(QCustomPlot::rpQueuedReplot);
}

void DendrogramView::panHeights(double fraction) {
  const QCPRange full = fullHeightRange(), r = heightAxis()->range();
  const double lower = std::clamp(r.lower + fraction * r.size(), full.lower, full.upper - r.size());
  heightAxis()->setRange(lower, lower + r.size());
  replot(QCustomPlot::rpQueuedReplot);
}

void DendrogramView::centerOnOverview(const QPointF& p) {
  const double along = orientation_ == Qt::Vertical ? p.x() : p.y();
  const double at = overviewLeafAxis()->pixelToCoord(along);
  const double span = leafRange().size();
  applyLeafRange(QCPRange(at - span / 2, at + span / 2), true);
}

QRect DendrogramView::overviewRect() const { return overview_->layout() ? overview_->rect() : QRect(); }

bool DendrogramView::revealExpert(int64_t id) {
  if (id < 0 || id >= tree_.n) return false;
  const int64_t c = clusterOfNode(id);
  if (c >= 0 && isClusterFolded(c)) setClusterFolded(c, false);
  revealed_ = id;
  const double at = tree_.nodes[static_cast<size_t>(id)].position;
  double span = leafRange().size();
  if (span > 48) span = 40;  // close enough to read the neighbours' labels
  applyLeafRange(QCPRange(at - span / 2, at + span / 2), true);
  replot(QCustomPlot::rpQueuedReplot);
  emit subtreeClicked({id});
  return true;
}

std::vector<DendrogramView::VisibleItem> DendrogramView::visibleItems() const {
  std::vector<VisibleItem> items;
  const int64_t n = tree_.n;
  if (n == 0) return items;
  const QCPRange r = leafRange();
  const int64_t first = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(r.lower)));
  const int64_t last = std::min<int64_t>(n - 1, static_cast<int64_t>(std::floor(r.upper)));
  for (int64_t p = first; p <= last; ++p) {
    const int64_t e = tree_.leafOrder[static_cast<size_t>(p)];
    const int64_t root = hiddenBy_.empty() ? -1 : hiddenBy_[static_cast<size_t>(e)];
    if (root < 0) {
      items.push_back({static_cast<double>(p), static_cast<double>(p), e, -1});
      continue;
    }
    const moe::TreeNode& node = tree_.nodes[static_cast<size_t>(root)];
    const double lo = tree_.nodes[static_cast<size_t>(node.members.front())].position;
    const double hi = tree_.nodes[static_cast<size_t>(node.members.back())].position;
    items.push_back({lo, hi, root, clusterOfNode(root)});
    p = static_cast<int64_t>(hi);  // skip the folded members
  }
  return items;
}

// ---- hit testing and mouse ----

int64_t DendrogramView::nodeAt(const QPointF& p) const {
  if (!axisRect()->rect().contains(p.toPoint())) return -1;
  const int64_t n = tree_.n;
  int64_t best = -1;
  double bestDist = kGrabPixels + 2;
  for (int64_t id = 0; id < static_cast<int64_t>(tree_.nodes.size()); ++id) {
    if (hiddenBy_[static_cast<size_t>(id)] >= 0) continue;
    const moe::TreeNode& node = tree_.nodes[static_cast<size_t>(id)];
    double d;
    if (isFoldedRoot(id)) {
      d = foldedNodeRect(clusterOfNode(id)).contains(p) ? 0.0 : 1e300;
    } else if (id < n) {
      const QPointF c = toPixel(node.position, 0);
      d = std::hypot(p.x() - c.x(), p.y() - c.y()) - 2;
    } else {
      const auto& l = tree_.nodes[static_cast<size_t>(node.left)];
      const auto& r = tree_.nodes[static_cast<size_t>(node.right)];
      d = std::min({distanceToSegment(p, toPixel(l.position, node.height), toPixel(r.position, node.height)),
                    distanceToSegment(p, toPixel(l.position, l.height), toPixel(l.position, node.height)) + 1,
                    distanceToSegment(p, toPixel(r.position, r.height), toPixel(r.position, node.height)) + 1});
    }
    if (d < bestDist) bestDist = d, best = id;
  }
  return best;
}

void DendrogramView::clickNode(int64_t node) {
  if (node < 0) {
    selected_ = -1;
    emit subtreeClicked({});
    return;
  }
  // A click on a folded cluster opens it and selects all of its members.
  if (isFoldedRoot(node)) setClusterFolded(clusterOfNode(node), false);
  selected_ = node;
  emit subtreeClicked(tree_.nodes[static_cast<size_t>(node)].members);
}

void DendrogramView::mousePressEvent(QMouseEvent* event) {
  QCustomPlot::mousePressEvent(event);
  if (event->button() != Qt::LeftButton || tree_.n == 0) return;
  const QPointF p = event->position();
  if (overviewRect().contains(p.toPoint())) {
    overviewDrag_ = true;
    centerOnOverview(p);
    return;
  }
  if (nearCutLine(p)) {
    dragging_ = true;
    return;
  }
  pressed_ = true;
  panning_ = false;
  pressPixel_ = p;
  pressLeafRange_ = leafRange();
  pressHeightRange_ = heightAxis()->range();
}

void DendrogramView::mouseMoveEvent(QMouseEvent* event) {
  QCustomPlot::mouseMoveEvent(event);
  if (tree_.n == 0) return;
  const QPointF p = event->position();
  if (dragging_) {
    const QCPRange range = heightAxis()->range();
    const double h = std::clamp(heightCoordAt(p), range.lower, range.upper);
    placeCutLine(h);
    const int64_t k = moe::clusterCountAtHeight(linkage_, h);
    if (k != k_) emit kRequested(static_cast<int>(k));
    return;
  }
  if (overviewDrag_) {
    centerOnOverview(p);
    return;
  }
  if (pressed_ && (event->buttons() & Qt::LeftButton)) {
    if (!panning_ && (p - pressPixel_).manhattanLength() > kPanThreshold) {
      panning_ = true;
      setCursor(Qt::ClosedHandCursor);
      QToolTip::hideText();
    }
    if (panning_) {
      // Move the plot with the pointer: the coordinate under the press point follows it.
      const bool vertical = orientation_ == Qt::Vertical;
      const double leafDelta = leafAxis()->pixelToCoord(vertical ? pressPixel_.x() : pressPixel_.y()) -
                               leafAxis()->pixelToCoord(vertical ? p.x() : p.y());
      applyLeafRange(QCPRange(pressLeafRange_.lower + leafDelta, pressLeafRange_.upper + leafDelta), true);
      if (heightAxis()->range().size() < fullHeightRange().size() * 0.999) {
        const double hDelta = heightAxis()->pixelToCoord(pixelAlongHeight(pressPixel_)) - heightCoordAt(p);
        const QCPRange full = fullHeightRange();
        const double lower = std::clamp(pressHeightRange_.lower + hDelta, full.lower, full.upper - pressHeightRange_.size());
        heightAxis()->setRange(lower, lower + pressHeightRange_.size());
        replot(QCustomPlot::rpQueuedReplot);
      }
      return;
    }
  }
  const bool nearCut = nearCutLine(p);
  setCursor(nearCut ? (orientation_ == Qt::Vertical ? Qt::SizeVerCursor : Qt::SizeHorCursor) : Qt::ArrowCursor);
  const int64_t node = nearCut ? -1 : nodeAt(p);
  if (node != hovered_) {
    hovered_ = node;
    replot(QCustomPlot::rpQueuedReplot);
  }
  if (node >= 0) showToolTip(node, event->globalPosition().toPoint());
  else QToolTip::hideText();
}

void DendrogramView::showToolTip(int64_t node, const QPoint& globalPos) {
  const moe::TreeNode& t = tree_.nodes[static_cast<size_t>(node)];
  QStringList ids;
  double usage = 0;
  for (int64_t e : t.members) {
    if (ids.size() < 40) ids << QString::number(e);
    if (static_cast<int64_t>(usage_.size()) == tree_.n) usage += usage_[static_cast<size_t>(e)];
  }
  if (t.size > ids.size()) ids << QStringLiteral("\u2026");
  QString text = t.size == 1 ? tr("Expert %1").arg(ids.front())
                             : tr("%n experts: %1", nullptr, static_cast<int>(t.size)).arg(ids.join(", "));
  if (isFoldedRoot(node)) text = tr("Folded cluster (click to unfold)") + "\n" + text;
  if (t.size > 1) text += "\n" + tr("Merge height: %1").arg(t.height, 0, 'g', 4);
  if (!usage_.empty()) text += "\n" + tr("Usage: %1 %").arg(100.0 * usage, 0, 'f', 2);
  QToolTip::showText(globalPos, text, this);
}

void DendrogramView::mouseReleaseEvent(QMouseEvent* event) {
  QCustomPlot::mouseReleaseEvent(event);
  if (event->button() != Qt::LeftButton) return;
  if (dragging_) {
    dragging_ = false;
    placeCutLine(heightForK(k_));
    emit cutDragFinished();
    return;
  }
  if (overviewDrag_) {
    overviewDrag_ = false;
    return;
  }
  if (!pressed_) return;
  pressed_ = false;
  if (panning_) {
    panning_ = false;
    setCursor(Qt::ArrowCursor);
    return;
  }
  clickNode(nodeAt(event->position()));
}

void DendrogramView::mouseDoubleClickEvent(QMouseEvent* event) {
  QCustomPlot::mouseDoubleClickEvent(event);
  if (event->button() != Qt::LeftButton) return;
  // Double-clicking inside an open cluster folds it back.
  const int64_t c = clusterOfNode(nodeAt(event->position()));
  if (c >= 0 && !isClusterFolded(c)) setClusterFolded(c, true);
}

void DendrogramView::wheelEvent(QWheelEvent* event) {
  if (tree_.n == 0) return;
  const double steps = event->angleDelta().y() / 120.0;
  if (steps == 0) return;
  const double factor = std::pow(1.25, steps);
  const QPointF p = event->position();
  if (event->modifiers() & Qt::ControlModifier) {
    // Heights: zoom around the pointer, inside the full height range.
    const QCPRange full = fullHeightRange(), r = heightAxis()->range();
    const double at = std::clamp(heightCoordAt(p), r.lower, r.upper);
    double lower = at - (at - r.lower) / factor, upper = at + (r.upper - at) / factor;
    const double span = std::clamp(upper - lower, full.size() * 0.02, full.size());
    lower = std::clamp(at - (at - r.lower) / r.size() * span, full.lower, full.upper - span);
    heightAxis()->setRange(lower, lower + span);
    replot(QCustomPlot::rpQueuedReplot);
  } else {
    const bool inPlot = axisRect()->rect().contains(p.toPoint());
    zoomLeaves(factor, inPlot ? leafCoordAt(p) : leafRange().center());
  }
  event->accept();
}

void DendrogramView::keyPressEvent(QKeyEvent* event) {
  const bool vertical = orientation_ == Qt::Vertical;
  const double span = leafRange().size();
  auto panLeaves = [&](double fraction) {
    const QCPRange r = leafRange();
    applyLeafRange(QCPRange(r.lower + fraction * span, r.upper + fraction * span), true);
  };
  switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomLeaves(1.25, leafRange().center()); break;
    case Qt::Key_Minus: zoomLeaves(0.8, leafRange().center()); break;
    case Qt::Key_Home:
    case Qt::Key_0: fitAll(); break;
    case Qt::Key_Left: vertical ? panLeaves(-0.15) : panHeights(-0.1); break;
    case Qt::Key_Right: vertical ? panLeaves(0.15) : panHeights(0.1); break;
    case Qt::Key_Up: vertical ? panHeights(0.1) : panLeaves(-0.15); break;
    case Qt::Key_Down: vertical ? panHeights(-0.1) : panLeaves(0.15); break;
    default: QCustomPlot::keyPressEvent(event); return;
  }
  event->accept();
}

void DendrogramView::contextMenuEvent(QContextMenuEvent* event) {
  QMenu menu(this);
  const int64_t c = clusterOfNode(nodeAt(event->pos()));
  if (c >= 0 && clusterRoot_[static_cast<size_t>(c)] >= 0 && coloring_.memberCount(c) > 1) {
    const bool folded = isClusterFolded(c);
    QAction* toggle = menu.addAction(folded ? tr("Unfold this cluster") : tr("Fold this cluster"));
    connect(toggle, &QAction::triggered, this, [this, c, folded] { setClusterFolded(c, !folded); });
    menu.addSeparator();
  }
  menu.addAction(fitAction_);
  menu.addAction(foldAllAction_);
  menu.addAction(horizontalAction_);
  menu.exec(event->globalPos());
}

void DendrogramView::setOrientation(Qt::Orientation orientation) {
  if (orientation == orientation_) return;
  const QCPRange leaves = leafRange(), heights = heightAxis()->range();
  orientation_ = orientation;
  {
    const QSignalBlocker block(horizontalAction_);
    horizontalAction_->setChecked(orientation == Qt::Horizontal);
  }
  setupAxes();
  leafAxis()->setRange(leaves);
  heightAxis()->setRange(heights);
  placeOverview();
  placeCutLine(cutHeight_);
  applyPlotStyle(this);
  restyle();
}

void DendrogramView::leaveEvent(QEvent* event) {
  QCustomPlot::leaveEvent(event);
  if (hovered_ >= 0) {
    hovered_ = -1;
    replot(QCustomPlot::rpQueuedReplot);
  }
}

void DendrogramView::changeEvent(QEvent* event) {
  QCustomPlot::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    applyPlotStyle(this);
    restyle();
  } else if (event->type() == QEvent::LanguageChange) {
    retranslate();
    replot(QCustomPlot::rpQueuedReplot);
  }
}

}  // namespace widgets
}  // namespace moe
