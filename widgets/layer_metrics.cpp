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
  // One pass over the upper triangle (the matrix is symmetric): each pair updates both experts'
  // nearest distance. Half the reads of a full pass, which took ~1 ms per 512-expert block.
  std::vector<double> nearest(static_cast<size_t>(n), std::numeric_limits<double>::infinity());
  double pairSum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double* row = distances.data.data() + i * n;
    double rowSum = 0, own = nearest[static_cast<size_t>(i)];
    for (int64_t j = i + 1; j < n; ++j) {
      const double d = row[j];
      rowSum += d;
      own = std::min(own, d);
      nearest[static_cast<size_t>(j)] = std::min(nearest[static_cast<size_t>(j)], d);
    }
    nearest[static_cast<size_t>(i)] = own;
    pairSum += 2 * rowSum;
  }
  double nearestSum = 0;
  for (double v : nearest) nearestSum += v;
  const double meanPair = pairSum / static_cast<double>(n * (n - 1));
  if (meanPair <= 0) return 1;
  return std::clamp(1.0 - (nearestSum / static_cast<double>(n)) / meanPair, 0.0, 1.0);
}

}  // namespace widgets
}  // namespace moe
