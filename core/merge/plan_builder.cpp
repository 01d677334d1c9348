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

ReamGroups reamGroups(const LayerStats& s, int64_t K) {
  const std::string b = "MoE block " + std::to_string(s.moeIndex);
  const int64_t E = s.numExperts;
  if (K < 1 || K > E)
    throw Error(ErrorKind::InvalidArgument, b + ": K = " + std::to_string(K) + " is outside 1.." + std::to_string(E));
  if (static_cast<int64_t>(s.reapScore.size()) != E)
    throw Error(ErrorKind::InvalidArgument, b + ": REAM needs the analysis' REAP score of every expert");
  const Matrix& rep = s.expertOutputMean.empty() ? s.expertOutputMeanRouted : s.expertOutputMean;
  if (rep.rows != E || rep.cols <= 0)
    throw Error(ErrorKind::InvalidArgument, b + ": REAM needs the analysis' mean expert outputs [E, hidden]");
  ReamGroups g;
  g.centroids = reapKeep(s.reapScore, K);
  g.labels.assign(static_cast<size_t>(E), -1);
  for (int64_t k = 0; k < K; ++k) g.labels[static_cast<size_t>(g.centroids[static_cast<size_t>(k)])] = k;
  for (int64_t e = 0; e < E; ++e) {
    if (g.labels[static_cast<size_t>(e)] >= 0) continue;
    double best = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t c = g.centroids[static_cast<size_t>(k)];
      double d = 0;
      for (int64_t h = 0; h < rep.cols; ++h) d += (rep(e, h) - rep(c, h)) * (rep(e, h) - rep(c, h));
      if (g.labels[static_cast<size_t>(e)] < 0 || d < best) {  // strict: ties stay with the lower group
        best = d;
        g.labels[static_cast<size_t>(e)] = k;
      }
    }
  }
  return g;
}

LayerPlan layerPlanForGroups(const LayerStats& s, int64_t K, const std::vector<int64_t>& labels,
                             MergeStrategy strategy, RouterMode router, std::optional<bool> alignNeurons) {
  if (K < 1 || K > s.numExperts)
    throw Error(ErrorKind::InvalidArgument, "MoE block " + std::to_string(s.moeIndex) + ": K = " + std::to_string(K) +
                                                " is outside 1.." + std::to_string(s.numExperts));
  if (alignNeurons && *alignNeurons && !averagesMembers(strategy))
    throw Error(ErrorKind::InvalidArgument, std::string("neuron alignment applies to the strategies that average "
                                                        "experts (frequency, average, ream), not '") +
                                                mergeStrategyName(strategy) + "'");
  LayerPlan lp;
  if (K == s.numExperts) {
    lp = keepLayerPlan(s.moeIndex, s.numExperts);
  } else if (strategy == MergeStrategy::PruneFrequency) {
    lp = pruneLayerPlan(s.moeIndex, s.numExperts, fPruneKeep(s.usageFrequency, K), strategy, s.usageFrequency);
  } else if (strategy == MergeStrategy::PruneReap) {
    lp = pruneLayerPlan(s.moeIndex, s.numExperts, reapKeep(s.reapScore, K), strategy, s.reapScore);
  } else if (strategy == MergeStrategy::Ream) {
    const ReamGroups g = reamGroups(s, K);
    lp = mergeLayerPlan(s.moeIndex, g.labels, strategy, s.usageFrequency, router, g.centroids);
    lp.scores = s.reapScore;  // what the centroids were chosen by
    if (alignNeurons) lp.alignNeurons = *alignNeurons;
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
    if (alignNeurons) lp.alignNeurons = *alignNeurons;
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
  if (req.alignNeurons && *req.alignNeurons && !averagesMembers(req.strategy))
    throw Error(ErrorKind::InvalidArgument, std::string("neuron alignment applies to the strategies that average "
                                                        "experts (frequency, average, ream), not '") +
                                                mergeStrategyName(req.strategy) + "'");
  const bool aligned = req.alignNeurons.value_or(req.strategy == MergeStrategy::Ream);
  std::string method = isPruneStrategy(req.strategy) ? std::string(mergeStrategyName(req.strategy)) + " pruning"
                       : req.strategy == MergeStrategy::Ream
                           ? "REAM: top-K REAP centroids, nearest-centroid groups by expert output, "
                             "usage-frequency merge"
                       : req.grouping == Grouping::Random
                           ? std::string("random groups, ") + mergeStrategyName(req.strategy) + " merge"
                           : std::string("HC-SMoE: ") + linkageMethodName(req.clustering.method) + " linkage on " +
                                 representationName(req.clustering.representation) + " (" + req.clustering.metric +
                                 "), " + mergeStrategyName(req.strategy) + " merge";
  plan.method = method + (aligned && averagesMembers(req.strategy) ? ", neuron-aligned" : "");
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
    // Pruning and REAM group experts themselves; merging needs the groups (random, or the tree cut at K).
    std::vector<int64_t> labels;
    if (!isPruneStrategy(req.strategy) && req.strategy != MergeStrategy::Ream)
      labels = req.grouping == Grouping::Random ? randomGroups(s.numExperts, K, req.seed + j)
                                                : canonicalLabels(cutTree(buildLayerTree(s, req.clustering).linkage, K));
    plan.layers.push_back(layerPlanForGroups(s, K, labels, req.strategy, req.router, req.alignNeurons));
  }
  plan.validate();
  return plan;
}

}  // namespace moe
