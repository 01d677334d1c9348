#pragma once
// Picks which labels of a crowded axis to draw so that none overlap: candidates are taken in
// priority order and kept when they clear every label kept so far. Pure geometry, no painting.
#include <QRectF>
#include <cstddef>
#include <vector>

namespace moe {
namespace widgets {

struct LabelCandidate {
  QRectF rect;       // where the label would be drawn, in pixels
  int priority = 0;  // lower is placed first; ties keep the input order
};

// Indices of the kept candidates (in placement order). Kept rectangles are at least `gap` pixels
// apart (they never intersect, not even with gap 0). Empty rectangles are never kept.
std::vector<size_t> thinLabels(const std::vector<LabelCandidate>& candidates, double gap);

}  // namespace widgets
}  // namespace moe
