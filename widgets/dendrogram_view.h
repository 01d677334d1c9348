#pragma once
// Dendrogram drawn from a scipy-style linkage matrix: leaves labelled with expert id and usage,
// branches inside a cluster coloured with the cluster's colour (shared with the other views), a
// horizontal cut line that can be dragged to choose K, subtree highlighting on hover and
// selection on click. Plain data in (moe::Linkage), no torch.
#include <qcustomplot.h>

#include <cstdint>
#include <vector>

#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"

namespace moe {
namespace widgets {

class DendrogramView : public QCustomPlot {
  Q_OBJECT

 public:
  explicit DendrogramView(QWidget* parent = nullptr);

  // usage: [n] usage frequency per expert (may be empty).
  void setTree(const moe::Linkage& linkage, const std::vector<double>& usage);
  // K and the cluster of every expert (numbered in leaf order, as the colours are).
  void setClusters(int64_t k, const std::vector<int64_t>& clusters);
  void setSelectedExperts(const std::vector<int64_t>& experts);

  int64_t k() const { return k_; }
  double cutHeight() const { return cutHeight_; }
  const std::vector<int64_t>& leafOrder() const { return tree_.leafOrder; }
  const moe::Tree& tree() const { return tree_; }
  int64_t hoveredNode() const { return hovered_; }
  // True when `node` (leaf or inner) lies in the hovered subtree, drawn thicker.
  bool isHoverHighlighted(int64_t node) const { return hovered_ >= 0 && inSubtree(node, hovered_); }
  QColor leafColor(int64_t expert) const;    // colour of the expert's leaf marker
  QColor branchColor(int64_t node) const;    // colour of the link above an inner node's children
  double cutLinePixel() const;               // y pixel of the cut line
  // Height at which the tree splits into k clusters (between the merges that give k and k - 1).
  double heightForK(int64_t k) const;

 signals:
  void kRequested(int k);        // the user dragged the cut line across a merge
  void cutDragFinished();        // mouse released after a drag
  void subtreeClicked(const std::vector<int64_t>& experts);  // empty when clicking the background

 protected:
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void rebuild();
  void restyle();
  void placeCutLine(double height);
  int64_t nodeAt(const QPointF& pixel) const;
  bool inSubtree(int64_t node, int64_t root) const;
  QColor nodeColor(int64_t node) const;

  moe::Linkage linkage_;
  moe::Tree tree_;
  std::vector<double> usage_;
  std::vector<int64_t> clusters_;
  int64_t k_ = 1;
  double cutHeight_ = 0;
  bool dragging_ = false;
  int64_t hovered_ = -1;
  int64_t selected_ = -1;
  std::vector<int64_t> selectedExperts_;
  std::vector<QCPCurve*> links_;   // one per inner node, index node - n
  std::vector<QCPGraph*> leafMarks_;
  QCPItemStraightLine* cutLine_ = nullptr;
  QCPItemText* cutLabel_ = nullptr;
  QCPItemRect* selectionBand_ = nullptr;
};

}  // namespace widgets
}  // namespace moe
