#pragma once
// From an analysis to a merge plan: the grouping rule (HC-SMoE clustering on a representation,
// or the baselines users compare against) applied with a K per MoE block.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/clustering.h"
#include "core/analysis/store.h"
#include "core/merge/plan.h"

namespace moe {

enum class Grouping {
  Clustering,  // agglomerative clustering on `clustering` (HC-SMoE when on expert outputs)
  Random,      // random groups (seeded), the sanity baseline
};

struct PlanRequest {
  std::vector<int64_t> clustersPerBlock;  // K of each MoE block (allocateClusters gives them)
  Grouping grouping = Grouping::Clustering;
  ClusteringChoice clustering;
  MergeStrategy strategy = MergeStrategy::FrequencyWeighted;
  RouterMode router = RouterMode::Average;
  ExportFormat format = ExportFormat::Compact;
  int firstUnmerged = 0;  // leave the first N MoE blocks as they are
  uint64_t seed = 0;      // random grouping
  // Neuron alignment of averaging merges (LayerPlan::alignNeurons); unset: on for ream, off otherwise.
  // Setting it for a strategy that does not average (dominant, pruning) is refused.
  std::optional<bool> alignNeurons;
};

// One block's plan entry once its experts are grouped: kept whole when K equals its expert count,
// the K most used (F-prune) or highest-REAP experts when the strategy prunes, otherwise the groups
// `labels` (values in [0, K)) merged by the strategy, Dominant groups represented by the member
// nearest their mean output. REAM ignores `labels` and groups the experts itself (reamGroups).
// The one rule the CLI, the exporter and the explorer share; throws
// moe::Error(InvalidArgument) when K is outside 1..E or the labels do not fit.
// `alignNeurons` as in PlanRequest.
LayerPlan layerPlanForGroups(const LayerStats& stats, int64_t K, const std::vector<int64_t>& labels,
                             MergeStrategy strategy, RouterMode router = RouterMode::Average,
                             std::optional<bool> alignNeurons = std::nullopt);

// REAM's grouping of one block: the K experts with the highest REAP score are the centroids
// (REAP rather than usage: it weighs how much an expert contributes to the output when chosen,
// not only how often; ties go to the lower index, as topKExperts), listed in ascending expert
// order, group k being centroids[k]; every other expert joins the centroid nearest in Euclidean
// distance between mean expert outputs (expertOutputMean, or expertOutputMeanRouted when only that
// is stored; ties to the lower group). Throws InvalidArgument when K is outside 1..E or the
// statistics lack REAP scores or expert outputs.
struct ReamGroups {
  std::vector<int64_t> centroids;  // [K]
  std::vector<int64_t> labels;     // [E]
};
ReamGroups reamGroups(const LayerStats& stats, int64_t K);

// `layers` are the analysis statistics of every MoE block, in block order.
MergePlan buildPlan(const std::vector<LayerStats>& layers, const PlanRequest& request, const AnalysisInfo& info);

// Random labels with exactly K non-empty groups.
std::vector<int64_t> randomGroups(int64_t numExperts, int64_t K, uint64_t seed);

// Every MoE block's statistics from a complete store (throws when it is incomplete).
std::vector<LayerStats> readAllLayers(const AnalysisStore& store);

}  // namespace moe
