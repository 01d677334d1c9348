// Core (ATen) headers first. Plans are built by core's own rules (core/merge/plan_builder.h,
// core/merge/merge.h) so that the explorer, the CLI and the exporter can never disagree on which
// experts a strategy keeps or which member dominates a group.
#include "core/error.h"
#include "core/merge/plan_builder.h"

#include <fstream>

#include "app/gui/merge_plan_builder.h"

namespace moe {
namespace gui {
namespace {

std::string methodText(const PlanState& state) {
  return std::string("HC-SMoE (MoEScope explorer): ") + moe::linkageMethodName(state.linkage) + " linkage, " +
         moe::representationName(state.representation) + " (" + state.metric + "), " +
         allocationName(state.allocation) + " allocation, strategy " + moe::mergeStrategyName(state.strategy) +
         (state.alignRequest() ? (*state.alignRequest() ? ", neurons aligned" : ", neurons not aligned") : "");
}

}  // namespace

moe::MergePlan toMergePlan(const AnalysisData& data, const PlanState& state, const DerivedPlan& derived) {
  moe::PlanRequest request;
  request.clustersPerBlock = derived.k;
  request.clustering = clusteringChoice(state);
  request.strategy = state.strategy;
  request.alignNeurons = state.alignRequest();
  bool uniform = true;
  for (int64_t k : derived.k) uniform = uniform && k == derived.k.front();
  request.format = uniform ? moe::ExportFormat::Compact : moe::ExportFormat::ExpertMap;
  moe::MergePlan plan = moe::buildPlan(data.layers, request, data.info);
  plan.method = methodText(state);
  return plan;
}

void savePlanFile(const std::string& path, const AnalysisData& data, const PlanState& state,
                  const DerivedPlan& derived) {
  nlohmann::json j = toMergePlan(data, state, derived).toJson();
  j["moescope_explorer"] = state.toJson();
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  out.close();
  if (!out) throw moe::Error(moe::ErrorKind::Io, "cannot write " + path);
}

PlanState loadPlanFile(const std::string& path, const AnalysisData& data, const PlanState& current) {
  std::ifstream in(path);
  if (!in) throw moe::Error(moe::ErrorKind::Io, "cannot read " + path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw moe::Error(moe::ErrorKind::Format, path + ": " + e.what());
  }
  const moe::MergePlan plan = moe::MergePlan::fromJson(j, path);
  std::vector<int64_t> experts;
  std::vector<int> layers;
  for (const auto& s : data.layers) experts.push_back(s.numExperts), layers.push_back(s.layer);
  plan.checkModel(data.info.modelFingerprint, experts, layers);
  if (j.contains("moescope_explorer")) {
    PlanState s = PlanState::fromJson(j["moescope_explorer"], path);
    for (const auto& entry : s.layerK)
      if (const int block = entry.first; block >= data.numMoeLayers())
        throw moe::Error(moe::ErrorKind::InvalidArgument,
                         path + ": explorer state overrides K of MoE block " + std::to_string(block) + ", but " +
                             data.info.modelDir + " has " + std::to_string(data.numMoeLayers()) + " MoE blocks");
    return s;
  }
  PlanState s = current;
  s.layerK.clear();
  for (const auto& lp : plan.layers) s.layerK[lp.moeIndex] = lp.isIdentity() ? lp.numExperts : lp.numGroups;
  if (!plan.layers.empty() && !plan.layers.front().isIdentity()) {
    s.strategy = plan.layers.front().strategy;
    // Stored explicitly: a CLI plan's choice survives even where it is the strategy's default.
    s.alignNeurons = moe::averagesMembers(s.strategy) ? std::optional<bool>(plan.layers.front().alignNeurons)
                                                      : std::nullopt;
  }
  return s;
}

}  // namespace gui
}  // namespace moe
