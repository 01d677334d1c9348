#pragma once
// The instant estimate of a merge's output error, shown until the exact error is measured: for a
// grouping of a block's experts, the usage-weighted relative error of replacing each expert's mean
// output (over the calibration tokens) by its group's usage-weighted mean output. Computed from
// the Gram matrix of the mean outputs, so that any grouping costs O(E^2) once the Gram matrix is
// known. Plain data, no torch.
#include <cstdint>
#include <vector>

#include "core/analysis/layer_stats.h"
#include "core/cluster/linkage.h"

namespace moe {

// What the estimate needs of one block: G = M M^T of the mean expert outputs M [E, H] and the
// usage frequency of every expert (empty: every expert counts the same).
struct MergeErrorModel {
  Matrix gram;
  std::vector<double> usage;
};

// From a block's statistics: the all-token mean outputs, else the routed-token ones. The Gram
// matrix is empty when the analysis has neither.
MergeErrorModel mergeErrorModel(const LayerStats& stats);

// sqrt( sum_e u_e ||m_e - c_g(e)||^2 / sum_e u_e ||m_e||^2 ), where c_g is the mean output of
// group g weighted by usage (a plain average for a group nobody routes to) and u_e the usage
// (1 when unknown). `groups[e]` labels expert e with a group in [0, K). Throws
// moe::Error(InvalidArgument) when the labels do not cover the block's experts; returns -1 when
// the model has no Gram matrix.
double estimateMergeError(const MergeErrorModel& model, const std::vector<int64_t>& groups);

// estimateMergeError of every cut of a tree at once: entry K (1 <= K <= n) is the estimate for
// cutTree(tree, K)'s groups, entry 0 is unused (-1); all -1 when the model has no Gram matrix.
// Walks cut_tree's merges keeping each cluster's weighted Gram sum, so the whole curve costs
// O(n^2) instead of O(n^2) per K (the explorer's trade-off curve asks for every K of 60 blocks on
// each clustering change). Equal to the per-K estimate up to rounding. Throws moe::Error when the
// tree's size is not the block's.
std::vector<double> estimateMergeErrorByK(const MergeErrorModel& model, const Linkage& tree);

}  // namespace moe
