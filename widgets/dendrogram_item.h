#pragma once
// A QCustomPlot layer of the DendrogramView that paints one part of it (the tree, its leaf labels
// or the overview strip) by calling back into the view. Being QCustomPlot items, the parts are
// drawn in the plot's own replot and in its PNG/SVG/PDF exports.
#include <qcustomplot.h>

namespace moe {
namespace widgets {

class DendrogramView;

class DendrogramItem : public QCPAbstractItem {
 public:
  enum class Part { Tree, Labels, Overview };
  DendrogramItem(DendrogramView* view, Part part);

  double selectTest(const QPointF&, bool, QVariant* = nullptr) const override { return -1; }

 protected:
  void draw(QCPPainter* painter) override;

 private:
  DendrogramView* view_;
  Part part_;
};

}  // namespace widgets
}  // namespace moe
