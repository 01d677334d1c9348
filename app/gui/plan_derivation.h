#pragma once
// From an analysis and the explorer's plan to what the views draw: one tree per MoE block (the
// core's clustering path, core/analysis/clustering.h), the K each block keeps and the cluster of
// every expert. Clusters are numbered in dendrogram leaf order, which is what keeps a cluster's
// colour the same in every view. Plain data, throws moe::Error.
#include <cstdint>
#include <memory>
#include <vector>

#include "app/gui/analysis_data.h"
#include "app/gui/plan_state.h"
#include "core/analysis/clustering.h"

namespace moe {
namespace gui {

// The trees are shared, not copied: at 512 experts x 60 blocks they hold ~120 MB of distances, and
// every plan edit derives a plan (twice: validation, then the undo command).
using SharedTrees = std::shared_ptr<const std::vector<moe::LayerTree>>;

struct DerivedPlan {
  SharedTrees trees;                           // per MoE block
  std::vector<int64_t> k;                      // per MoE block
  std::vector<std::vector<int64_t>> clusters;  // per MoE block: cluster of each expert
};

moe::ClusteringChoice clusteringChoice(const PlanState& state);
// Every block's tree of the state's clustering choice, one block per task on every core (a switch
// that also wants estimates and redundancy uses buildChoice, app/gui/tree_prefetch.h).
std::vector<moe::LayerTree> buildTrees(const AnalysisData& data, const PlanState& state);
// One block's tree from its distances (kept by the caller, not the tree); throws moe::Error when
// the matrix is not a distance matrix.
moe::LayerTree linkTree(const moe::Matrix& distances, moe::LinkageMethod method);
// K per block from the allocation preset, then the per-block overrides (clamped to [1, E]).
std::vector<int64_t> allocate(const AnalysisData& data, const std::vector<moe::LayerTree>& trees,
                              const PlanState& state);
// scipy cut_tree labels of k clusters, renumbered in order of first appearance along the leaves.
std::vector<int64_t> leafOrderedClusters(const moe::LayerTree& tree, int64_t k);
// Any labels (values in [0, E), negative ones kept as -1) renumbered in order of first appearance
// along the tree's leaves: how every view numbers groups, so that a group keeps its colour.
std::vector<int64_t> leafOrdered(const moe::LayerTree& tree, const std::vector<int64_t>& labels);
// The same for several K, sharing the cut's replay order.
std::vector<std::vector<int64_t>> leafOrderedClusters(const moe::LayerTree& tree, const std::vector<int64_t>& ks);
// Trees are rebuilt unless `trees` (built for the same clustering choice) is given. A block whose
// tree and K are those of `previous` keeps its clusters (a cut is O(E^2) per block; a drag changes
// one block's K).
DerivedPlan derive(const AnalysisData& data, const PlanState& state, SharedTrees trees = nullptr,
                   const DerivedPlan* previous = nullptr);

// A sensible first plan: uniform K = half the experts, the paper's clustering choice.
PlanState defaultPlan(const AnalysisData& data);
// Height of a tree's cut into k clusters (between the merges giving k and k - 1 clusters).
double cutHeightForK(const moe::Linkage& z, int64_t k);

}  // namespace gui
}  // namespace moe
