#pragma once
// Dendrogram drawn from a scipy-style linkage matrix, usable from 16 to 512 experts:
// - branches inside a cluster in the cluster's colour (ClusterColoring, shared with the other
//   views; small clusters grey, stated in a legend), a cut line that can be dragged to choose K;
// - zoom and pan along the leaves (wheel around the cursor, Ctrl+wheel for heights, drag,
//   +/-/arrows/Home, fitAll()), an overview strip showing the whole tree and the visible part;
// - clusters below the cut can be folded into one node showing member count and total usage
//   (like scipy's truncate_mode='lastp', but each folded node keeps its clusters' span of leaf
//   positions so that leaf positions stay the same as in the linked heatmap);
// - leaf labels thinned to what fits (never overlapping), vertical or horizontal orientation;
// - subtree highlighting on hover and selection on click.
// Plain data in (moe::Linkage), no torch.
#include <qcustomplot.h>

#include <cstdint>
#include <set>
#include <vector>

#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "widgets/cluster_palette.h"

class QAction;

namespace moe {
namespace widgets {

class DendrogramItem;

class DendrogramView : public QCustomPlot {
  Q_OBJECT

 public:
  explicit DendrogramView(QWidget* parent = nullptr);

  // usage: [n] usage frequency per expert (may be empty). Resets zoom, folding toggles and reveal.
  void setTree(const moe::Linkage& linkage, const std::vector<double>& usage);
  // K and the cluster of every expert (numbered in leaf order).
  void setClusters(int64_t k, const std::vector<int64_t>& clusters);
  void setSelectedExperts(const std::vector<int64_t>& experts);

  int64_t k() const { return k_; }
  bool isDraggingCut() const { return dragging_; }  // between the press on the cut line and the release
  double cutHeight() const { return cutHeight_; }
  const std::vector<int64_t>& leafOrder() const { return tree_.leafOrder; }
  const moe::Tree& tree() const { return tree_; }
  int64_t hoveredNode() const { return hovered_; }
  // True when `node` (leaf or inner) lies in the hovered subtree, drawn thicker.
  bool isHoverHighlighted(int64_t node) const { return hovered_ >= 0 && inSubtree(node, hovered_); }
  QColor leafColor(int64_t expert) const;    // colour of the expert's leaf marker
  QColor branchColor(int64_t node) const;    // colour of the link above an inner node's children
  const ClusterColoring& coloring() const { return coloring_; }
  QString colorLegend() const;               // the legend drawn in the corner, empty when hidden
  double cutLinePixel() const;               // pixel of the cut line across the height axis
  // Height at which the tree splits into k clusters (between the merges that give k and k - 1).
  double heightForK(int64_t k) const;

  // Axes: the leaf axis carries leaf positions (leaf i of leafOrder() at i), the other one heights.
  Qt::Orientation orientation() const { return orientation_; }  // Vertical: leaves along the bottom
  QCPAxis* leafAxis() const;
  QCPAxis* heightAxis() const;
  QCPRange leafRange() const;
  // Pixel position of a plot point (leaf position, height), for either orientation.
  QPointF toPixel(double leafPosition, double height) const;

  // Folding: a folded cluster (2+ members forming one subtree) is drawn as one node.
  bool foldAll() const { return foldAll_; }
  bool isClusterFolded(int64_t cluster) const;
  // Pixel rectangle of a folded cluster's node (null when the cluster is not folded).
  QRectF foldedNodeRect(int64_t cluster) const;
  // What the last replot drew inside the view: experts drawn as leaves, clusters drawn folded.
  const std::vector<int64_t>& drawnLeaves() const { return drawnLeaves_; }
  const std::vector<int64_t>& drawnFoldedClusters() const { return drawnFolded_; }
  int64_t drawnLeafCount() const { return static_cast<int64_t>(drawnLeaves_.size() + drawnFolded_.size()); }
  // Pixel rectangles of the labels of the last replot.
  const std::vector<QRectF>& drawnLabelRects() const { return labelRects_; }

  // Overview strip (shown from 33 experts on): its rectangle, empty when hidden.
  QRect overviewRect() const;
  // Centres the view on expert `id` (unfolding its cluster, zooming in when the view is wide),
  // marks it and selects it (subtreeClicked({id})). False for an unknown id.
  bool revealExpert(int64_t id);
  int64_t revealedExpert() const { return revealed_; }

  QAction* fitAction() const { return fitAction_; }
  QAction* foldAllAction() const { return foldAllAction_; }        // checkable
  QAction* horizontalAction() const { return horizontalAction_; }  // checkable

 public slots:
  void fitAll();
  // Visible leaf range in leaf-position units (clamped to the tree); does not emit leafRangeChanged.
  void setLeafRange(double first, double last);
  void setOrientation(Qt::Orientation orientation);
  void setFoldAll(bool folded);
  void setClusterFolded(int64_t cluster, bool folded);
  // factor > 1 zooms in, around leaf position `anchor`.
  void zoomLeaves(double factor, double anchor);

 signals:
  void kRequested(int k);        // the user dragged the cut line across a merge
  void cutDragFinished();        // mouse released after a drag
  void subtreeClicked(const std::vector<int64_t>& experts);  // empty when clicking the background
  // The visible leaf range changed by zoom, pan, fit or reveal (leaf-position units).
  void leafRangeChanged(double first, double last);

 protected:
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void contextMenuEvent(QContextMenuEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  friend class DendrogramItem;

  void restyle();
  void retranslate();
  void setupAxes();
  void placeOverview();
  void placeCutLine(double height);
  void updateClusterNodes();
  void updateFolding();
  void updateLegend();
  void applyLeafRange(QCPRange range, bool notify);
  void panHeights(double fraction);
  QCPRange fullLeafRange() const;
  QCPAxis* overviewLeafAxis() const;
  QCPAxis* overviewHeightAxis() const;
  QPointF overviewPixel(double leafPosition, double height) const;
  void centerOnOverview(const QPointF& pixel);
  // Leaf-level items inside the visible range: single leaves and folded clusters, in leaf order.
  struct VisibleItem {
    double first = 0, last = 0;  // leaf positions covered
    int64_t node = -1;           // a leaf (expert) or a folded cluster's root
    int64_t cluster = -1;        // the folded cluster, -1 for a leaf
  };
  std::vector<VisibleItem> visibleItems() const;
  double pixelsPerLeaf() const;
  QCPRange fullHeightRange() const;
  double leafCoordAt(const QPointF& pixel) const;
  double heightCoordAt(const QPointF& pixel) const;
  double pixelAlongHeight(const QPointF& pixel) const;
  bool nearCutLine(const QPointF& pixel) const;
  int64_t nodeAt(const QPointF& pixel) const;
  bool inSubtree(int64_t node, int64_t root) const;
  QColor nodeColor(int64_t node) const;
  int64_t clusterOfNode(int64_t node) const;  // cluster whose subtree contains node, -1 above the cut
  bool isFoldedRoot(int64_t node) const;
  void clickNode(int64_t node);
  void showToolTip(int64_t node, const QPoint& globalPos);

  // Painting, called by the DendrogramItem layers (dendrogram_painting.cpp).
  void paintTree(QCPPainter* painter);
  void paintLabels(QCPPainter* painter);
  void paintOverview(QCPPainter* painter);
  QString leafLabel(int64_t expert, bool withUsage) const;
  QString foldedLabel(int64_t cluster) const;
  double labelExtent() const;  // room the labels take across the leaf axis
  mutable QString leafExtentKey_;  // what leafExtent_ was measured for (font, size, orientation, usage)
  mutable double leafExtent_ = 0;  // the widest leaf label
  mutable QString widestKey_;      // font and tree size widest_ was measured for
  mutable double widest_ = 0;      // the widest of a leaf's id and a usage percentage
  bool rotatedLabels() const;  // vertical orientation with labels turned to read downwards

  moe::Linkage linkage_;
  moe::Tree tree_;
  std::vector<double> usage_;
  std::vector<int64_t> clusters_;
  ClusterColoring coloring_;
  std::vector<int64_t> nodeCluster_;   // by node: its cluster when the whole subtree is in one, else -1
  std::vector<int64_t> clusterRoot_;   // by cluster: the node whose members are exactly it, or -1
  std::vector<int64_t> hiddenBy_;      // by node: the folded root that hides it, or -1
  std::set<int64_t> foldToggled_;      // cluster roots folded differently from foldAll_
  bool foldAll_ = false;
  Qt::Orientation orientation_ = Qt::Vertical;
  int64_t k_ = 1;
  double cutHeight_ = 0;
  bool dragging_ = false;      // dragging the cut line
  bool pressed_ = false;       // left button down in the plot: a click or a pan
  bool panning_ = false;
  bool overviewDrag_ = false;
  QPointF pressPixel_;
  QCPRange pressLeafRange_, pressHeightRange_;
  int64_t hovered_ = -1;
  int64_t selected_ = -1;
  int64_t revealed_ = -1;
  std::vector<int64_t> selectedExperts_;
  std::vector<int64_t> drawnLeaves_, drawnFolded_;
  std::vector<QRectF> labelRects_;
  QCPAxisRect* overview_ = nullptr;
  QCPMarginGroup* marginGroup_ = nullptr;
  DendrogramItem* treeItem_ = nullptr;
  DendrogramItem* labelItem_ = nullptr;
  DendrogramItem* overviewItem_ = nullptr;
  QCPItemStraightLine* cutLine_ = nullptr;
  QCPItemText* cutLabel_ = nullptr;
  QCPItemText* legend_ = nullptr;
  QAction* fitAction_ = nullptr;
  QAction* foldAllAction_ = nullptr;
  QAction* horizontalAction_ = nullptr;
};

}  // namespace widgets
}  // namespace moe
