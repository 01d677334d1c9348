#include "app/gui/merge_plan_builder.h"

#include <algorithm>
#include <fstream>
#include <numeric>

#include "core/error.h"

namespace moe {
namespace gui {
namespace {

// The K experts with the highest scores, ascending (ties: lower index), as the core's topKExperts.
std::vector<int64_t> topK(const std::vector<double>& scores, int64_t k) {
  std::vector<int64_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
    return scores[static_cast<size_t>(a)] > scores[static_cast<size_t>(b)];
  });
  idx.resize(static_cast<size_t>(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

// The member of each group closest to the mean of its members' mean outputs (ties: lower index).
std::vector<int64_t> dominant(const moe::LayerStats& s, const std::vector<int64_t>& labels, int64_t k) {
  const moe::Matrix& m = s.expertOutputMean.empty() ? s.expertOutputMeanRouted : s.expertOutputMean;
  std::vector<int64_t> out(static_cast<size_t>(k), -1);
  for (int64_t g = 0; g < k; ++g) {
    std::vector<double> centre(static_cast<size_t>(m.cols), 0.0);
    int64_t size = 0;
    for (size_t e = 0; e < labels.size(); ++e)
      if (labels[e] == g) {
        ++size;
        for (int64_t c = 0; c < m.cols; ++c) centre[static_cast<size_t>(c)] += m(static_cast<int64_t>(e), c);
      }
    double best = 1e300;
    for (size_t e = 0; e < labels.size(); ++e) {
      if (labels[e] != g) continue;
      double d = 0;
      for (int64_t c = 0; c < m.cols; ++c) {
        const double x = m(static_cast<int64_t>(e), c) - centre[static_cast<size_t>(c)] / static_cast<double>(size);
        d += x * x;
      }
      if (d < best) best = d, out[static_cast<size_t>(g)] = static_cast<int64_t>(e);
    }
  }
  return out;
}

std::string methodText(const PlanState& state) {
  return std::string("HC-SMoE (MoEScope explorer): ") + moe::linkageMethodName(state.linkage) + " linkage, " +
         moe::representationName(state.representation) + " (" + state.metric + "), " +
         allocationName(state.allocation) + " allocation, strategy " + moe::mergeStrategyName(state.strategy);
}

}  // namespace

moe::LayerPlan toLayerPlan(const AnalysisData& data, const PlanState& state, int j, int64_t k,
                           const std::vector<int64_t>& clusters) {
  const moe::LayerStats& s = data.layers.at(static_cast<size_t>(j));
  moe::LayerPlan lp;
  if (k >= s.numExperts) {
    lp = moe::keepLayerPlan(j, s.numExperts);
  } else if (state.strategy == moe::MergeStrategy::PruneFrequency) {
    lp = moe::pruneLayerPlan(j, s.numExperts, topK(s.usageFrequency, k), state.strategy, s.usageFrequency);
  } else if (state.strategy == moe::MergeStrategy::PruneReap) {
    lp = moe::pruneLayerPlan(j, s.numExperts, topK(s.reapScore, k), state.strategy, s.reapScore);
  } else {
    const std::vector<int64_t> dom =
        state.strategy == moe::MergeStrategy::Dominant ? dominant(s, clusters, k) : std::vector<int64_t>{};
    lp = moe::mergeLayerPlan(j, clusters, state.strategy, s.usageFrequency, moe::RouterMode::Average, dom);
  }
  lp.layer = s.layer;
  return lp;
}

moe::MergePlan toMergePlan(const AnalysisData& data, const PlanState& state, const DerivedPlan& derived) {
  moe::MergePlan plan;
  plan.modelFingerprint = data.info.modelFingerprint;
  plan.calibrationFingerprint = data.info.calibrationFingerprint;
  plan.sourceModel = data.info.modelDir;
  plan.method = methodText(state);
  bool uniform = true;
  for (int64_t k : derived.k) uniform = uniform && k == derived.k.front();
  plan.format = uniform ? moe::ExportFormat::Compact : moe::ExportFormat::ExpertMap;
  for (int j = 0; j < data.numMoeLayers(); ++j)
    plan.layers.push_back(
        toLayerPlan(data, state, j, derived.k[static_cast<size_t>(j)], derived.clusters[static_cast<size_t>(j)]));
  plan.validate();
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
  if (j.contains("moescope_explorer")) return PlanState::fromJson(j["moescope_explorer"]);
  PlanState s = current;
  s.layerK.clear();
  for (const auto& lp : plan.layers) s.layerK[lp.moeIndex] = lp.isIdentity() ? lp.numExperts : lp.numGroups;
  if (!plan.layers.empty() && !plan.layers.front().isIdentity()) s.strategy = plan.layers.front().strategy;
  return s;
}

}  // namespace gui
}  // namespace moe
