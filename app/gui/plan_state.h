#pragma once
// The explorer's plan: how many clusters each MoE block keeps (an allocation preset plus per-layer
// overrides), how experts are compared and clustered, and how groups are merged. This is the one
// file that knows how the explorer's plan maps onto the merge plan JSON (core/merge/plan.h); the
// explorer state travels in the same file under "moescope_explorer".
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/analysis/layer_stats.h"
#include "core/cluster/linkage.h"
#include "core/merge/plan.h"

namespace moe {
namespace gui {

enum class Allocation { Uniform, Frequency, Distance };
const char* allocationName(Allocation a);  // "uniform", "frequency", "distance"
Allocation parseAllocation(const std::string& name);

struct PlanState {
  Allocation allocation = Allocation::Uniform;
  int64_t globalK = 1;          // uniform: K of every block; frequency: mean K per block (budget / blocks)
  double height = 0;            // distance threshold
  std::map<int, int64_t> layerK;  // per-block overrides: MoE block -> K
  moe::LinkageMethod linkage = moe::LinkageMethod::Average;
  moe::Representation representation = moe::Representation::ExpertOutput;
  std::string metric = "euclidean";
  moe::MergeStrategy strategy = moe::MergeStrategy::FrequencyWeighted;
  // Neuron alignment before averaging (core/merge/neuron_alignment.h); unset: core's default for the
  // strategy (on for REAM). Kept when the strategy changes; applies only where core averages members.
  std::optional<bool> alignNeurons;
  // What the plan builder is asked for (PlanRequest::alignNeurons): the choice where the strategy
  // averages members, core's default elsewhere (core refuses alignment for the others).
  std::optional<bool> alignRequest() const { return moe::averagesMembers(strategy) ? alignNeurons : std::nullopt; }

  bool sameClustering(const PlanState& o) const {
    return linkage == o.linkage && representation == o.representation && metric == o.metric;
  }
  // The clustering choice as a key ("average/expert_output/euclidean"): what the explorer caches
  // trees by.
  std::string clusteringKey() const;
  bool operator==(const PlanState& o) const;
  bool operator!=(const PlanState& o) const { return !(*this == o); }

  nlohmann::json toJson() const;
  // Missing keys keep their defaults. Every value is checked (type, range, numeric block keys):
  // a malformed one throws moe::Error(Format) naming `source` and the key.
  static PlanState fromJson(const nlohmann::json& j, const std::string& source = "plan");
};

}  // namespace gui
}  // namespace moe
