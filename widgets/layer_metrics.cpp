#include "widgets/layer_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moe {
namespace widgets {

double usageSkew(const std::vector<double>& usage) {
  if (usage.size() < 2) return -1;
  double total = 0;
  for (double u : usage) total += std::max(0.0, u);
  if (total <= 0) return -1;
  double entropy = 0;
  for (double u : usage) {
    const double p = std::max(0.0, u) / total;
    if (p > 0) entropy -= p * std::log(p);
  }
  return std::clamp(1.0 - entropy / std::log(static_cast<double>(usage.size())), 0.0, 1.0);
}

double redundancy(const moe::Matrix& distances) {
  const int64_t n = distances.rows;
  if (n < 2 || distances.cols != n) return -1;
  double nearestSum = 0, pairSum = 0;
  for (int64_t i = 0; i < n; ++i) {
    double nearest = std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < n; ++j) {
      if (i == j) continue;
      nearest = std::min(nearest, distances(i, j));
      pairSum += distances(i, j);
    }
    nearestSum += nearest;
  }
  const double meanPair = pairSum / static_cast<double>(n * (n - 1));
  if (meanPair <= 0) return 1;
  return std::clamp(1.0 - (nearestSum / static_cast<double>(n)) / meanPair, 0.0, 1.0);
}

}  // namespace widgets
}  // namespace moe
