#pragma once
// How many clusters (merged experts) K_l each MoE layer keeps. Three rules:
//  - uniform: the same K everywhere;
//  - frequency (HC-SMoE's non-uniform rule): one global usage-frequency threshold over all
//    layers' experts, each layer keeping as many clusters as it has experts above it;
//  - distance: cut every layer's tree at one height.
// All throw moe::Error(InvalidArgument) with context on bad input.
#include <cstdint>
#include <vector>

#include "core/cluster/linkage.h"

namespace moe {

// What uniform allocation does with a layer that has fewer than k experts.
enum class UniformCap {
  Reject,          // an error: k must fit every layer
  KeepAllExperts,  // that layer keeps all its experts (K_l = E_l)
};

// K_l = k for every layer (k >= 1, E_l >= 1); a layer with E_l < k is refused or keeps all its
// experts, as `cap` says. The one home of the uniform rule (allocateClusters uses it).
std::vector<int64_t> allocateUniform(const std::vector<int64_t>& expertsPerLayer, int64_t k,
                                     UniformCap cap = UniformCap::Reject);

struct FrequencyAllocation {
  std::vector<int64_t> clusters;  // K_l per layer; sums to the budget; 1 <= K_l <= E_l
  // Usage frequency of the last expert admitted by the global ranking: every expert (other than
  // a layer's most used one, which is always kept) with a higher frequency is counted. +infinity
  // when the budget only covers the one guaranteed cluster per layer.
  double threshold = 0;
};

// HC-SMoE's global frequency rule. frequencies[l][e] is how often layer l's expert e is routed
// to (any non-negative scale; the values of different layers are compared with each other).
// totalClusters is the budget sum_l K_l, between the number of layers and sum_l E_l.
//
// Each layer's most used expert is kept first, so that no layer drops to zero clusters; the
// remaining totalClusters - L slots go to the most used of all other experts, globally. When the
// plain rule (top totalClusters experts overall) already gives every layer one expert, this is
// exactly the plain rule; otherwise it differs only by moving slots to the layers that would have
// had none. Ties are broken deterministically by a total order: higher frequency first, then
// lower layer index, then lower expert index (and likewise for choosing a layer's most used
// expert). The budget is therefore met exactly, unlike the paper's reference code (which counts
// `> threshold` or `>= threshold` and can miss or overshoot the budget on ties).
FrequencyAllocation allocateByFrequency(const std::vector<std::vector<double>>& frequencies,
                                        int64_t totalClusters);

// K_l = number of clusters when layer l's tree is cut at `height` (fcluster 'distance'
// semantics: merges at height <= `height` are applied). The height must not be NaN.
std::vector<int64_t> allocateByDistanceThreshold(const std::vector<Linkage>& trees, double height);

}  // namespace moe
