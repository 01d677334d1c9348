#pragma once
// From an analysis to a merge plan: the grouping rule (HC-SMoE clustering on a representation,
// or the baselines users compare against) applied with a K per MoE block.
#include <cstdint>
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
};

// One block's plan entry once its experts are grouped: kept whole when K equals its expert count,
// the K most used (F-prune) or highest-REAP experts when the strategy prunes, otherwise the groups
// `labels` (values in [0, K)) merged by the strategy, Dominant groups represented by the member
// nearest their mean output. The one rule the CLI, the exporter and the explorer share; throws
// moe::Error(InvalidArgument) when K is outside 1..E or the labels do not fit.
LayerPlan layerPlanForGroups(const LayerStats& stats, int64_t K, const std::vector<int64_t>& labels,
                             MergeStrategy strategy, RouterMode router = RouterMode::Average);

// `layers` are the analysis statistics of every MoE block, in block order.
MergePlan buildPlan(const std::vector<LayerStats>& layers, const PlanRequest& request, const AnalysisInfo& info);

// Random labels with exactly K non-empty groups.
std::vector<int64_t> randomGroups(int64_t numExperts, int64_t K, uint64_t seed);

// Every MoE block's statistics from a complete store (throws when it is incomplete).
std::vector<LayerStats> readAllLayers(const AnalysisStore& store);

}  // namespace moe
