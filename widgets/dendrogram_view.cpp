#include "widgets/dendrogram_view.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "widgets/cluster_palette.h"
#include "widgets/plot_style.h"

namespace moe {
namespace widgets {
namespace {

constexpr double kGrabPixels = 6.0;

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
  setInteractions(QCP::Interactions());
  xAxis->grid()->setVisible(false);
  yAxis->setLabel(tr("merge height"));
  xAxis->setLabel(tr("expert (usage %)"));
  cutLine_ = new QCPItemStraightLine(this);
  cutLine_->setLayer("overlay");
  cutLabel_ = new QCPItemText(this);
  cutLabel_->setLayer("overlay");
  cutLabel_->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
  cutLabel_->position->setTypeY(QCPItemPosition::ptPlotCoords);
  cutLabel_->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
  cutLabel_->setPadding(QMargins(4, 2, 4, 2));
  selectionBand_ = new QCPItemRect(this);
  selectionBand_->setLayer("grid");
  selectionBand_->setVisible(false);
  applyPlotStyle(this);
  restyle();
}

void DendrogramView::setTree(const moe::Linkage& linkage, const std::vector<double>& usage) {
  linkage_ = linkage;
  usage_ = usage;
  tree_ = moe::buildTree(linkage_);
  hovered_ = -1;
  selected_ = -1;
  if (static_cast<int64_t>(clusters_.size()) != tree_.n) clusters_.clear();
  rebuild();
}

void DendrogramView::rebuild() {
  clearPlottables();
  links_.clear();
  leafMarks_.clear();
  const int64_t n = tree_.n;
  if (n == 0) return;
  auto pos = [&](int64_t id) { return tree_.nodes[static_cast<size_t>(id)].position; };
  auto height = [&](int64_t id) { return tree_.nodes[static_cast<size_t>(id)].height; };
  for (int64_t id = n; id < 2 * n - 1; ++id) {
    const moe::TreeNode& node = tree_.nodes[static_cast<size_t>(id)];
    auto* c = new QCPCurve(xAxis, yAxis);
    c->addData(0, pos(node.left), height(node.left));
    c->addData(1, pos(node.left), node.height);
    c->addData(2, pos(node.right), node.height);
    c->addData(3, pos(node.right), height(node.right));
    c->setSelectable(QCP::stNone);
    links_.push_back(c);
  }
  for (int64_t e = 0; e < n; ++e) {
    auto* g = new QCPGraph(xAxis, yAxis);
    g->addData(pos(e), 0.0);
    g->setLineStyle(QCPGraph::lsNone);
    g->setSelectable(QCP::stNone);
    leafMarks_.push_back(g);
  }
  const bool compact = n > 24;
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  const int64_t step = std::max<int64_t>(1, (n + 63) / 64);
  for (int64_t p = 0; p < n; p += step) {
    const int64_t e = tree_.leafOrder[static_cast<size_t>(p)];
    QString label = QString::number(e);
    if (!compact && static_cast<int64_t>(usage_.size()) == n)
      label += "\n" + QString::number(100.0 * usage_[static_cast<size_t>(e)], 'f', 1);
    ticker->addTick(static_cast<double>(p), label);
  }
  xAxis->setTicker(ticker);
  xAxis->setTickLabelRotation(compact ? 90 : 0);
  const double top = n > 1 ? tree_.nodes[static_cast<size_t>(tree_.root)].height : 1.0;
  xAxis->setRange(-0.7, n - 0.3);
  // A little room below zero so that the leaf markers are drawn whole.
  const double span = (top > 0 ? top : 1.0) * 1.12;
  yAxis->setRange(-0.02 * span, span);
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
  if (!dragging_) placeCutLine(heightForK(k_));
  else placeCutLine(cutHeight_);
  restyle();
}

void DendrogramView::placeCutLine(double height) {
  cutHeight_ = height;
  cutLine_->point1->setCoords(0, height);
  cutLine_->point2->setCoords(1, height);
  cutLabel_->position->setCoords(0.995, height);
  cutLabel_->setText(tr("K = %1").arg(k_));
  replot(QCustomPlot::rpQueuedReplot);
}

double DendrogramView::cutLinePixel() const { return yAxis->coordToPixel(cutHeight_); }

QColor DendrogramView::nodeColor(int64_t node) const {
  if (clusters_.empty() || node < 0) return neutralColor(palette());
  const auto& members = tree_.nodes[static_cast<size_t>(node)].members;
  const int64_t c = clusters_[static_cast<size_t>(members.front())];
  for (int64_t e : members)
    if (clusters_[static_cast<size_t>(e)] != c) return neutralColor(palette());
  return clusterColor(static_cast<int>(c), isDarkPalette(palette()));
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
  const int64_t n = tree_.n;
  for (size_t i = 0; i < links_.size(); ++i) {
    const int64_t id = n + static_cast<int64_t>(i);
    const bool hot = hovered_ >= 0 && inSubtree(id, hovered_);
    links_[i]->setPen(QPen(nodeColor(id), hot ? 3.4 : 1.7, Qt::SolidLine, Qt::FlatCap, Qt::MiterJoin));
  }
  for (size_t e = 0; e < leafMarks_.size(); ++e) {
    const QColor c = nodeColor(static_cast<int64_t>(e));
    const bool hot = hovered_ >= 0 && inSubtree(static_cast<int64_t>(e), hovered_);
    leafMarks_[e]->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, c, hot ? 10 : 7));
  }
  QColor accent = isDarkPalette(pal) ? QColor(255, 120, 110) : QColor(200, 40, 40);
  cutLine_->setPen(QPen(accent, 1.6, Qt::DashLine));
  cutLabel_->setColor(accent);
  QFont f = font();
  f.setBold(true);
  cutLabel_->setFont(f);
  QColor band = pal.color(QPalette::Highlight);
  band.setAlpha(45);
  selectionBand_->setBrush(band);
  selectionBand_->setPen(Qt::NoPen);
  replot(QCustomPlot::rpQueuedReplot);
}

void DendrogramView::setSelectedExperts(const std::vector<int64_t>& experts) {
  selectedExperts_ = experts;
  selected_ = -1;
  std::vector<int64_t> want = experts;
  std::sort(want.begin(), want.end());
  for (const moe::TreeNode& node : tree_.nodes) {
    std::vector<int64_t> m = node.members;
    std::sort(m.begin(), m.end());
    if (!want.empty() && m == want) { selected_ = node.id; break; }
  }
  if (selected_ < 0) {
    selectionBand_->setVisible(false);
  } else {
    const moe::TreeNode& node = tree_.nodes[static_cast<size_t>(selected_)];
    double lo = 1e300, hi = -1e300;
    for (int64_t e : node.members) {
      lo = std::min(lo, tree_.nodes[static_cast<size_t>(e)].position);
      hi = std::max(hi, tree_.nodes[static_cast<size_t>(e)].position);
    }
    const double top = node.height > 0 ? node.height : yAxis->range().upper * 0.04;
    selectionBand_->topLeft->setCoords(lo - 0.45, top * 1.04);
    selectionBand_->bottomRight->setCoords(hi + 0.45, yAxis->range().lower);
    selectionBand_->setVisible(true);
  }
  replot(QCustomPlot::rpQueuedReplot);
}

int64_t DendrogramView::nodeAt(const QPointF& p) const {
  const int64_t n = tree_.n;
  int64_t best = -1;
  double bestDist = kGrabPixels + 2;
  auto px = [&](double x, double y) { return QPointF(xAxis->coordToPixel(x), yAxis->coordToPixel(y)); };
  for (int64_t id = 0; id < static_cast<int64_t>(tree_.nodes.size()); ++id) {
    const moe::TreeNode& node = tree_.nodes[static_cast<size_t>(id)];
    double d;
    if (id < n) {
      const QPointF c = px(node.position, 0);
      d = std::hypot(p.x() - c.x(), p.y() - c.y()) - 2;
    } else {
      const auto& l = tree_.nodes[static_cast<size_t>(node.left)];
      const auto& r = tree_.nodes[static_cast<size_t>(node.right)];
      d = std::min({distanceToSegment(p, px(l.position, node.height), px(r.position, node.height)),
                    distanceToSegment(p, px(l.position, l.height), px(l.position, node.height)) + 1,
                    distanceToSegment(p, px(r.position, r.height), px(r.position, node.height)) + 1});
    }
    if (d < bestDist) bestDist = d, best = id;
  }
  return best;
}

void DendrogramView::mousePressEvent(QMouseEvent* event) {
  QCustomPlot::mousePressEvent(event);
  if (event->button() != Qt::LeftButton || tree_.n == 0) return;
  const QPointF p = event->position();
  if (axisRect()->rect().contains(p.toPoint()) && std::abs(p.y() - cutLinePixel()) <= kGrabPixels) {
    dragging_ = true;
    return;
  }
  const int64_t node = nodeAt(p);
  selected_ = node;
  emit subtreeClicked(node >= 0 ? tree_.nodes[static_cast<size_t>(node)].members : std::vector<int64_t>{});
}

void DendrogramView::mouseMoveEvent(QMouseEvent* event) {
  QCustomPlot::mouseMoveEvent(event);
  if (tree_.n == 0) return;
  const QPointF p = event->position();
  if (dragging_) {
    const QCPRange range = yAxis->range();
    const double h = std::clamp(yAxis->pixelToCoord(p.y()), range.lower, range.upper);
    placeCutLine(h);
    const int64_t k = moe::clusterCountAtHeight(linkage_, h);
    if (k != k_) emit kRequested(static_cast<int>(k));
    return;
  }
  const bool nearCut = axisRect()->rect().contains(p.toPoint()) && std::abs(p.y() - cutLinePixel()) <= kGrabPixels;
  setCursor(nearCut ? Qt::SizeVerCursor : Qt::ArrowCursor);
  const int64_t node = nearCut ? -1 : nodeAt(p);
  if (node != hovered_) {
    hovered_ = node;
    restyle();
  }
  if (node >= 0) {
    const moe::TreeNode& t = tree_.nodes[static_cast<size_t>(node)];
    QStringList ids;
    double usage = 0;
    for (int64_t e : t.members) {
      ids << QString::number(e);
      if (static_cast<int64_t>(usage_.size()) == tree_.n) usage += usage_[static_cast<size_t>(e)];
    }
    QString text = t.size == 1 ? tr("Expert %1").arg(ids.front())
                               : tr("%n experts: %1", nullptr, static_cast<int>(t.size)).arg(ids.join(", "));
    if (t.size > 1) text += "\n" + tr("Merge height: %1").arg(t.height, 0, 'g', 4);
    if (!usage_.empty()) text += "\n" + tr("Usage: %1 %").arg(100.0 * usage, 0, 'f', 2);
    QToolTip::showText(event->globalPosition().toPoint(), text, this);
  } else {
    QToolTip::hideText();
  }
}

void DendrogramView::mouseReleaseEvent(QMouseEvent* event) {
  QCustomPlot::mouseReleaseEvent(event);
  if (!dragging_) return;
  dragging_ = false;
  placeCutLine(heightForK(k_));
  emit cutDragFinished();
}

void DendrogramView::leaveEvent(QEvent* event) {
  QCustomPlot::leaveEvent(event);
  if (hovered_ >= 0) {
    hovered_ = -1;
    restyle();
  }
}

void DendrogramView::changeEvent(QEvent* event) {
  QCustomPlot::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    applyPlotStyle(this);
    restyle();
  } else if (event->type() == QEvent::LanguageChange) {
    yAxis->setLabel(tr("merge height"));
    xAxis->setLabel(tr("expert (usage %)"));
    if (cutLabel_) cutLabel_->setText(tr("K = %1").arg(k_));
    replot(QCustomPlot::rpQueuedReplot);
  }
}

}  // namespace widgets
}  // namespace moe
