#pragma once
// From stored statistics to expert groups: the one code path the CLI, the GUI and the merge
// planner use to turn a layer's statistics into a tree and a cut.
#include <string>
#include <vector>

#include "core/analysis/layer_stats.h"
#include "core/cluster/linkage.h"

namespace moe {

struct ClusteringChoice {
  Representation representation = Representation::ExpertOutput;
  std::string metric = "euclidean";
  LinkageMethod method = LinkageMethod::Average;  // the paper's default
};

// The one rule on which clusterings are meaningful, shared by the CLI (cluster, merge, compare)
// and the explorer: Ward's minimum-variance linkage is only defined on Euclidean distances, and
// the metric must be one the distances support. Throws moe::Error(InvalidArgument) naming the
// linkage and metric; buildLayerTree applies it too.
void validateClusteringChoice(const ClusteringChoice& choice);

struct LayerTree {
  Matrix distances;  // [E, E]
  Linkage linkage;
  std::vector<int64_t> leafOrder;
};

LayerTree buildLayerTree(const LayerStats& stats, const ClusteringChoice& choice);

// How many experts each MoE layer keeps.
enum class AllocationRule {
  Uniform,            // the same K everywhere (capped at each layer's expert count)
  GlobalFrequency,    // the paper's rule: one usage-frequency threshold over all layers reaching a total budget
  DistanceThreshold,  // cut every layer's tree at the same height
};

// `amount` is K for Uniform, the total number of experts kept for GlobalFrequency, and the height
// for DistanceThreshold.
std::vector<int64_t> allocateClusters(const std::vector<LayerStats>& layers, const std::vector<LayerTree>& trees,
                                      AllocationRule rule, double amount);

}  // namespace moe
