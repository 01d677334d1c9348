#include "core/merge/plan_builder.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <random>

#include "core/cluster/tree.h"
#include "core/error.h"
#include "core/merge/merge.h"

namespace moe {

std::vector<int64_t> randomGroups(int64_t E, int64_t K, uint64_t seed) {
  if (K < 1 || K > E) throw Error(ErrorKind::InvalidArgument, "K must be between 1 and " + std::to_string(E));
  std::mt19937_64 rng(seed);
  std::vector<int64_t> order(static_cast<size_t>(E));
  for (int64_t e = 0; e < E; ++e) order[static_cast<size_t>(e)] = e;
  // Fisher-Yates with our own index draw, so a seed gives the same groups with every library.
  for (int64_t i = E - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[rng() % static_cast<uint64_t>(i + 1)]);
  std::vector<int64_t> labels(static_cast<size_t>(E));
  for (int64_t i = 0; i < E; ++i)
    labels[static_cast<size_t>(order[static_cast<size_t>(i)])] = i < K ? i : static_cast<int64_t>(rng() % static_cast<uint64_t>(K));
  return labels;
}

std::vector<LayerStats> readAllLayers(const AnalysisStore& store) {
  if (!store.isComplete())
    throw Error(ErrorKind::InvalidArgument, store.path() + " is incomplete; finish it with moescope-cli analyze first");
  std::vector<LayerStats> layers;
  for (size_t j = 0; j < store.info().moeLayers.size(); ++j) layers.push_back(store.readLayer(static_cast<int>(j)));
  return layers;
}

LayerPlan layerPlanForGroups(const LayerStats& s, int64_t K, const std::vector<int64_t>& labels,
                             MergeStrategy strategy, RouterMode router) {
  if (K < 1 || K > s.numExperts)
    throw Error(ErrorKind::InvalidArgument, "MoE block " + std::to_string(s.moeIndex) + ": K = " + std::to_string(K) +
                                                " is outside 1.." + std::to_string(s.numExperts));
  LayerPlan lp;
  if (K == s.numExperts) {
    lp = keepLayerPlan(s.moeIndex, s.numExperts);
  } else if (strategy == MergeStrategy::PruneFrequency) {
    lp = pruneLayerPlan(s.moeIndex, s.numExperts, fPruneKeep(s.usageFrequency, K), strategy, s.usageFrequency);
  } else if (strategy == MergeStrategy::PruneReap) {
    lp = pruneLayerPlan(s.moeIndex, s.numExperts, reapKeep(s.reapScore, K), strategy, s.reapScore);
  } else {
    if (static_cast<int64_t>(labels.size()) != s.numExperts)
      throw Error(ErrorKind::InvalidArgument, "MoE block " + std::to_string(s.moeIndex) + ": " +
                                                  std::to_string(labels.size()) + " group labels for " +
                                                  std::to_string(s.numExperts) + " experts");
    std::vector<int64_t> dominant;
    if (strategy == MergeStrategy::Dominant) {
      const Matrix& rep = s.expertOutputMean.empty() ? s.expertOutputMeanRouted : s.expertOutputMean;
      const at::Tensor t = at::from_blob(const_cast<double*>(rep.data.data()), {rep.rows, rep.cols}, at::kDouble).clone();
      dominant = dominantMembers(labels, K, t);
    }
    lp = mergeLayerPlan(s.moeIndex, labels, strategy, s.usageFrequency, router, dominant);
  }
  lp.layer = s.layer;
  return lp;
}

MergePlan buildPlan(const std::vector<LayerStats>& layers, const PlanRequest& req, const AnalysisInfo& info) {
  if (req.clustersPerBlock.size() != layers.size())
    throw Error(ErrorKind::InvalidArgument, "one K per MoE block is needed (" + std::to_string(layers.size()) + ")");
  MergePlan plan;
  plan.modelFingerprint = info.modelFingerprint;
  plan.calibrationFingerprint = info.calibrationFingerprint;
  plan.sourceModel = info.modelDir;
  plan.format = req.format;
  std::string method = isPruneStrategy(req.strategy) ? std::string(mergeStrategyName(req.strategy)) + " pruning"
                       : req.grouping == Grouping::Random
                           ? std::string("random groups, ") + mergeStrategyName(req.strategy) + " merge"
                           : std::string("HC-SMoE: ") + linkageMethodName(req.clustering.method) + " linkage on " +
                                 representationName(req.clustering.representation) + " (" + req.clustering.metric +
                                 "), " + mergeStrategyName(req.strategy) + " merge";
  plan.method = method;
  for (size_t j = 0; j < layers.size(); ++j) {
    const LayerStats& s = layers[j];
    const int64_t K = req.clustersPerBlock[j];
    if (static_cast<int>(j) < req.firstUnmerged || K == s.numExperts) {
      plan.layers.push_back(layerPlanForGroups(s, s.numExperts, {}, req.strategy));  // kept whole
      continue;
    }
    if (K < 1 || K > s.numExperts)
      throw Error(ErrorKind::InvalidArgument, "block " + std::to_string(j) + ": K = " + std::to_string(K) +
                                                  " is outside 1.." + std::to_string(s.numExperts));
    // Pruning ranks experts itself; merging needs the groups (random, or the tree cut at K).
    std::vector<int64_t> labels;
    if (!isPruneStrategy(req.strategy))
      labels = req.grouping == Grouping::Random ? randomGroups(s.numExperts, K, req.seed + j)
                                                : canonicalLabels(cutTree(buildLayerTree(s, req.clustering).linkage, K));
    plan.layers.push_back(layerPlanForGroups(s, K, labels, req.strategy, req.router));
  }
  plan.validate();
  return plan;
}

}  // namespace moe
