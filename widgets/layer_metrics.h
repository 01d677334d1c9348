#pragma once
// Per-layer summary numbers for the layer navigator, each in [0, 1] so layers of different sizes
// and scales compare. Plain data, no Qt.
#include <vector>

#include "core/analysis/layer_stats.h"

namespace moe {
namespace widgets {

// 1 - (entropy of the normalised usage frequencies) / ln(E): 0 when every expert is used equally,
// 1 when one expert takes every selection. Negative (unknown) when E < 2 or nothing was used.
double usageSkew(const std::vector<double>& usage);

// 1 - (mean over experts of the distance to the nearest other expert) / (mean distance over all
// pairs of distinct experts): near 1 when experts come with close twins (merging them loses
// little), near 0 when they are evenly spread. 1 when all distances are 0. Negative (unknown)
// when E < 2. distances: [E, E], symmetric.
double redundancy(const moe::Matrix& distances);

}  // namespace widgets
}  // namespace moe
