// Painting of the DendrogramView: the tree (links, leaves, folded clusters, selection band), its
// thinned leaf labels and the overview strip. Everything is computed from the current axes at
// draw time, so zooming only needs a replot.
#include <QFontMetricsF>
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "widgets/dendrogram_item.h"
#include "widgets/dendrogram_view.h"
#include "widgets/label_thinning.h"

namespace moe {
namespace widgets {
namespace {

constexpr double kLabelGap = 3.0;    // pixels between neighbouring labels
constexpr double kLabelOffset = 4.0; // pixels between the axis and its labels

// Smallest "nice" stride (1, 2, 5, 10, 20, 50, ...) at which labels of `extent` pixels fit.
int64_t labelStride(double pixelsPerLeaf, double extent) {
  const double need = extent + kLabelGap;
  for (int64_t decade = 1;; decade *= 10)
    for (int64_t m : {1, 2, 5}) {
      const int64_t s = m * decade;
      if (s * pixelsPerLeaf >= need || s > (int64_t{1} << 40)) return s;
    }
}

}  // namespace

DendrogramItem::DendrogramItem(DendrogramView* view, Part part) : QCPAbstractItem(view), view_(view), part_(part) {}

void DendrogramItem::draw(QCPPainter* painter) {
  switch (part_) {
    case Part::Tree: view_->paintTree(painter); break;
    case Part::Labels: view_->paintLabels(painter); break;
    case Part::Overview: view_->paintOverview(painter); break;
  }
}

void DendrogramView::paintTree(QCPPainter* painter) {
  drawnLeaves_.clear();
  drawnFolded_.clear();
  const int64_t n = tree_.n;
  if (n == 0) return;
  const QPalette& pal = palette();
  const bool dark = isDarkPalette(pal);
  const QCPRange range = leafRange();
  const double ppl = pixelsPerLeaf();
  // Thinner strokes when leaves are packed, so that neighbouring links do not merge into a band.
  const double width = std::clamp(ppl * 0.45, 0.8, 1.7);
  auto pos = [&](int64_t id) { return tree_.nodes[static_cast<size_t>(id)].position; };
  auto height = [&](int64_t id) { return tree_.nodes[static_cast<size_t>(id)].height; };
  auto hot = [&](int64_t id) { return hovered_ >= 0 && inSubtree(id, hovered_); };

  if (selected_ >= 0) {
    const moe::TreeNode& node = tree_.nodes[static_cast<size_t>(selected_)];
    const double top = node.height > 0 ? node.height * 1.04 : fullHeightRange().upper * 0.04;
    QColor band = pal.color(QPalette::Highlight);
    band.setAlpha(45);
    const QRectF r = QRectF(toPixel(pos(node.members.front()) - 0.45, top),
                            toPixel(pos(node.members.back()) + 0.45, heightAxis()->range().lower)).normalized();
    painter->fillRect(r, band);
  }

  // Links are axis-aligned, so each of their three segments is a filled rectangle, unantialiased:
  // stroking 255-511 antialiased polylines took ~30 ms per frame (the drag benchmark's profile),
  // solid rectangles take well under one.
  const bool antialiased = painter->testRenderHint(QPainter::Antialiasing);
  painter->setRenderHint(QPainter::Antialiasing, false);
  auto segment = [&](QPointF p, QPointF q, double w, const QColor& c) {
    painter->fillRect(QRectF(std::min(p.x(), q.x()) - w / 2, std::min(p.y(), q.y()) - w / 2,
                             std::abs(q.x() - p.x()) + w, std::abs(q.y() - p.y()) + w),
                      c);
  };
  for (int64_t id = n; id < 2 * n - 1; ++id) {
    if (hiddenBy_[static_cast<size_t>(id)] >= 0 || isFoldedRoot(id)) continue;
    const moe::TreeNode& node = tree_.nodes[static_cast<size_t>(id)];
    const double a = pos(node.left), b = pos(node.right);
    if (std::max(a, b) < range.lower - 1 || std::min(a, b) > range.upper + 1) continue;
    const QPointF leftFoot = toPixel(a, height(node.left)), leftTop = toPixel(a, node.height);
    const QPointF rightTop = toPixel(b, node.height), rightFoot = toPixel(b, height(node.right));
    const QColor c = nodeColor(id);
    const double w = std::max(1.0, hot(id) ? 2 * width : width);
    segment(leftFoot, leftTop, w, c);
    segment(leftTop, rightTop, w, c);
    segment(rightTop, rightFoot, w, c);
  }

  // Leaves and folded-cluster wedges unantialiased too: up to 256 antialiased wedges, filled and
  // outlined, were most of a drag frame's ~30 ms of tree painting.
  // Wedges are filled with an opaque colour, the cluster's mixed into the plot's background: Qt
  // blends a translucent fill of more than ~96 rows on its GUI thread pool, and waiting for the
  // pool took 3-10 ms of each drag frame at 256 experts; opaque fills are drawn inline.
  const QColor base = pal.color(QPalette::Base);
  auto mixed = [&](const QColor& c, double alpha) {
    return QColor::fromRgbF(static_cast<float>(alpha * c.redF() + (1 - alpha) * base.redF()),
                            static_cast<float>(alpha * c.greenF() + (1 - alpha) * base.greenF()),
                            static_cast<float>(alpha * c.blueF() + (1 - alpha) * base.blueF()));
  };
  const double radius = std::clamp(ppl * 0.35, 1.0, 3.5);
  for (const VisibleItem& item : visibleItems()) {
    const QColor c = nodeColor(item.node);
    if (item.cluster < 0) {
      drawnLeaves_.push_back(item.node);
      const double r = hot(item.node) ? radius + 1.5 : radius;
      painter->setPen(Qt::NoPen);
      painter->setBrush(c);
      painter->drawEllipse(toPixel(item.first, 0), r, r);
      continue;
    }
    drawnFolded_.push_back(item.cluster);
    // A folded cluster: a wedge from its merge (where its parent's link ends) down to its members' span.
    const std::array<QPointF, 3> wedge = {toPixel(pos(item.node), height(item.node)),
                                          toPixel(item.first - 0.35, 0), toPixel(item.last + 0.35, 0)};
    const QColor fill = mixed(c, dark ? 120 / 255.0 : 95 / 255.0);
    // A one-pixel outline takes the raster engine's line path; wider ones go through its stroker.
    painter->setPen(QPen(c, hot(item.node) ? 2 : 1, Qt::SolidLine, Qt::FlatCap, Qt::MiterJoin));
    painter->setBrush(fill);
    painter->drawPolygon(wedge.data(), 3);
  }

  painter->setRenderHint(QPainter::Antialiasing, antialiased);

  if (revealed_ >= 0) {
    const QColor accent = dark ? QColor(255, 120, 110) : QColor(200, 40, 40);
    painter->setPen(QPen(accent, 2));
    painter->setBrush(Qt::NoBrush);
    painter->drawEllipse(toPixel(pos(revealed_), 0), radius + 5, radius + 5);
  }
}

bool DendrogramView::rotatedLabels() const {
  if (orientation_ != Qt::Vertical || tree_.n == 0) return false;
  // Horizontal text (id over usage) while a leaf is wide enough for its widest label.
  // Measured once per font and tree size: every folded cluster's label asks.
  const QString key = font().key() + QStringLiteral("/%1").arg(tree_.n);
  if (key != widestKey_) {
    const QFontMetricsF fm(font());
    widestKey_ = key;
    widest_ = std::max(fm.horizontalAdvance(QString::number(tree_.n - 1)), fm.horizontalAdvance("00.0"));
  }
  return pixelsPerLeaf() < widest_ + kLabelGap;
}

QString DendrogramView::leafLabel(int64_t expert, bool withUsage) const {
  QString text = QString::number(expert);
  if (!withUsage || static_cast<int64_t>(usage_.size()) != tree_.n) return text;
  const QString usage = QString::number(100.0 * usage_[static_cast<size_t>(expert)], 'f', 1);
  return orientation_ == Qt::Vertical ? text + "\n" + usage : text + " (" + usage + ")";
}

QString DendrogramView::foldedLabel(int64_t cluster) const {
  const QString count = QStringLiteral("\u00d7%1").arg(coloring_.memberCount(cluster));
  if (static_cast<int64_t>(usage_.size()) != tree_.n) return count;
  const QString usage = QString::number(100.0 * coloring_.usage(cluster), 'f', 1);
  return orientation_ == Qt::Vertical && !rotatedLabels() ? count + "\n" + usage : count + " (" + usage + ")";
}

double DendrogramView::labelExtent() const {
  if (tree_.n == 0) return 0;
  const QFontMetricsF fm(font());
  const bool withUsage = static_cast<int64_t>(usage_.size()) == tree_.n;
  if (orientation_ == Qt::Vertical && !rotatedLabels()) return fm.lineSpacing() * (withUsage ? 2 : 1);
  // Rotated or horizontal layout: the widest label. The leaves' widest is measured once per font,
  // tree size, orientation and usage (n measurements took ~1 ms of every replot at 256 leaves).
  const bool horizontal = orientation_ == Qt::Horizontal;
  double usageSum = 0;
  for (double u : usage_) usageSum += u;
  const QString key = font().key() + QStringLiteral("/%1/%2/%3/%4").arg(tree_.n).arg(horizontal).arg(withUsage).arg(usageSum, 0, 'g', 17);
  if (key != leafExtentKey_) {
    leafExtentKey_ = key;
    leafExtent_ = 0;
    for (int64_t e = 0; e < tree_.n; ++e)
      leafExtent_ = std::max(leafExtent_, fm.horizontalAdvance(leafLabel(e, horizontal && withUsage)));
  }
  double extent = leafExtent_;
  // Folded clusters: only the longest labels are measured (digits have one width in the fonts
  // used here; measuring all K labels on every replot took ~0.5 ms per drag frame at 256 experts).
  std::vector<QString> folded;
  int longest = 0;
  for (int64_t c = 0; c < coloring_.clusterCount(); ++c)
    if (isClusterFolded(c)) {
      folded.push_back(foldedLabel(c));
      longest = std::max(longest, static_cast<int>(folded.back().size()));
    }
  for (const QString& label : folded)
    if (label.size() == longest) extent = std::max(extent, fm.horizontalAdvance(label));
  return extent;
}

void DendrogramView::paintLabels(QCPPainter* painter) {
  labelRects_.clear();
  const int64_t n = tree_.n;
  if (n == 0) return;
  const QRect ar = axisRect()->rect();
  const bool vertical = orientation_ == Qt::Vertical;
  const bool rotated = rotatedLabels();
  const bool horizontalText = !vertical;
  const QFontMetricsF fm(font());
  const double ppl = pixelsPerLeaf();
  const bool withUsage = vertical ? !rotated : true;

  struct Label {
    QString text;
    LabelCandidate candidate;
  };
  std::vector<Label> labels;
  // Along the leaf axis a label stays within the plot's extent (edge labels shift inwards a little).
  auto rectAt = [&](double center, const QString& text) {
    const QSizeF size = fm.size(0, text);
    if (vertical) {
      const double w = rotated ? size.height() : size.width(), h = rotated ? size.width() : size.height();
      const double left = std::clamp(center - w / 2, double(ar.left()), std::max<double>(ar.left(), ar.right() - w));
      return QRectF(left, ar.bottom() + kLabelOffset, w, h);
    }
    const double top = std::clamp(center - size.height() / 2, double(ar.top()), std::max<double>(ar.top(), ar.bottom() - size.height()));
    return QRectF(ar.left() - kLabelOffset - size.width(), top, size.width(), size.height());
  };
  // Leaves get labels on a regular stride (stable while panning); folded clusters and the revealed
  // expert come first and push aside the leaf labels they would overlap.
  const double along = vertical && !rotated ? fm.horizontalAdvance(leafLabel(n - 1, withUsage).section('\n', 0, 0))
                                            : fm.lineSpacing();
  const double widestUsage = withUsage && vertical && !rotated ? fm.horizontalAdvance("00.0") : 0;
  const int64_t stride = labelStride(ppl, std::max(along, widestUsage));
  for (const VisibleItem& item : visibleItems()) {
    // Folded clusters cut by the view edge: label the visible part.
    const QCPRange r = leafRange();
    const double center = leafAxis()->coordToPixel(0.5 * (std::max(item.first, r.lower) + std::min(item.last, r.upper)));
    if (item.cluster >= 0) {
      const QString text = foldedLabel(item.cluster);
      labels.push_back({text, {rectAt(center, text), 1}});
    } else if (item.node == revealed_ || static_cast<int64_t>(item.first) % stride == 0) {
      const QString text = leafLabel(item.node, withUsage);
      labels.push_back({text, {rectAt(center, text), item.node == revealed_ ? 0 : 2}});
    }
  }
  std::vector<LabelCandidate> candidates;
  for (const Label& l : labels) candidates.push_back(l.candidate);
  const QColor text = palette().color(QPalette::WindowText);
  painter->setPen(text);
  painter->setFont(font());
  for (size_t i : thinLabels(candidates, kLabelGap)) {
    const QRectF& r = labels[i].candidate.rect;
    labelRects_.push_back(r);
    if (vertical && rotated) {
      // Reads downwards from the axis: turn by 90 degrees about the label's top centre.
      painter->save();
      painter->translate(r.center().x(), r.top());
      painter->rotate(90);
      painter->drawText(QRectF(0, -r.width() / 2, r.height(), r.width()), Qt::AlignLeft | Qt::AlignVCenter, labels[i].text);
      painter->restore();
    } else {
      painter->drawText(r, (horizontalText ? Qt::AlignRight : Qt::AlignHCenter) | Qt::AlignTop, labels[i].text);
    }
  }
}

void DendrogramView::paintOverview(QCPPainter* painter) {
  const int64_t n = tree_.n;
  if (n == 0 || !overview_->layout()) return;
  const QPalette& pal = palette();
  auto pos = [&](int64_t id) { return tree_.nodes[static_cast<size_t>(id)].position; };
  auto height = [&](int64_t id) { return tree_.nodes[static_cast<size_t>(id)].height; };
  // One-pixel unantialiased lines: the raster engine's line path, not its stroker (the strip
  // redraws the whole tree on every cut-line drag step).
  const bool antialiased = painter->testRenderHint(QPainter::Antialiasing);
  painter->setRenderHint(QPainter::Antialiasing, false);
  for (int64_t id = n; id < 2 * n - 1; ++id) {
    const moe::TreeNode& node = tree_.nodes[static_cast<size_t>(id)];
    const std::array<QPointF, 4> pts = {overviewPixel(pos(node.left), height(node.left)), overviewPixel(pos(node.left), node.height),
                                        overviewPixel(pos(node.right), node.height), overviewPixel(pos(node.right), height(node.right))};
    painter->setPen(QPen(nodeColor(id), 1));
    painter->drawPolyline(pts.data(), 4);
  }
  painter->setRenderHint(QPainter::Antialiasing, antialiased);
  // The visible part of the tree.
  const QCPRange r = leafRange();
  const QRectF view = QRectF(overviewPixel(r.lower, 0), overviewPixel(r.upper, overviewHeightAxis()->range().upper)).normalized();
  QColor fill = pal.color(QPalette::Highlight);
  fill.setAlpha(50);
  painter->setBrush(fill);
  painter->setPen(QPen(pal.color(QPalette::Highlight), 1.5));
  painter->drawRect(view.intersected(QRectF(overview_->rect()).adjusted(0.5, 0.5, -0.5, -0.5)));
}

}  // namespace widgets
}  // namespace moe
