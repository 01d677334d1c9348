#include "widgets/label_thinning.h"

#include <algorithm>
#include <numeric>

namespace moe {
namespace widgets {

std::vector<size_t> thinLabels(const std::vector<LabelCandidate>& candidates, double gap) {
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return candidates[a].priority < candidates[b].priority; });
  const double half = std::max(0.0, gap) / 2.0;
  std::vector<size_t> kept;
  std::vector<QRectF> grown;  // kept rectangles grown by half the gap on every side
  for (size_t i : order) {
    const QRectF& r = candidates[i].rect;
    if (r.isEmpty()) continue;
    const QRectF g = r.adjusted(-half, -half, half, half);
    // Closed-interval test: touching rectangles count as overlapping, so kept ones never meet.
    const bool clear = std::none_of(grown.begin(), grown.end(), [&](const QRectF& k) {
      return g.left() <= k.right() && k.left() <= g.right() && g.top() <= k.bottom() && k.top() <= g.bottom();
    });
    if (!clear) continue;
    kept.push_back(i);
    grown.push_back(g);
  }
  return kept;
}

}  // namespace widgets
}  // namespace moe
