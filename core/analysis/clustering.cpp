#include "core/analysis/clustering.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/cluster/allocation.h"
#include "core/cluster/distance.h"
#include "core/cluster/tree.h"
#include "core/error.h"

namespace moe {

void validateClusteringChoice(const ClusteringChoice& choice) {
  const DistanceMetric metric = parseDistanceMetric(choice.metric);  // throws on an unknown name
  if (choice.method == LinkageMethod::Ward && metric != DistanceMetric::Euclidean)
    throw Error(ErrorKind::InvalidArgument, std::string("ward linkage needs Euclidean distances, not the '") +
                                                choice.metric + "' metric; choose euclidean or another linkage");
}

LayerTree buildLayerTree(const LayerStats& stats, const ClusteringChoice& choice) {
  validateClusteringChoice(choice);
  LayerTree t;
  t.distances = stats.distances(choice.representation, choice.metric);
  t.linkage = linkageFromSquare(t.distances.data.data(), t.distances.rows, choice.method);
  t.leafOrder = leavesList(t.linkage);
  return t;
}

std::vector<int64_t> allocateClusters(const std::vector<LayerStats>& layers, const std::vector<LayerTree>& trees,
                                      AllocationRule rule, double amount) {
  switch (rule) {
    case AllocationRule::Uniform: {
      if (!(amount >= 1) || std::floor(amount) != amount)
        throw Error(ErrorKind::InvalidArgument, "uniform allocation: K = " + std::to_string(amount) +
                                                    " is not a positive integer");
      std::vector<int64_t> experts;
      for (const auto& l : layers) experts.push_back(l.numExperts);
      // Any K above every layer's expert count keeps everything; bound it before the integer cast.
      const double k = std::min(amount, static_cast<double>(std::numeric_limits<int32_t>::max()));
      return allocateUniform(experts, static_cast<int64_t>(k), UniformCap::KeepAllExperts);
    }
    case AllocationRule::GlobalFrequency: {
      std::vector<std::vector<double>> freqs;
      for (const auto& l : layers) freqs.push_back(l.usageFrequency);
      return allocateByFrequency(freqs, static_cast<int64_t>(std::llround(amount))).clusters;
    }
    case AllocationRule::DistanceThreshold: {
      std::vector<Linkage> z;
      for (const auto& t : trees) z.push_back(t.linkage);
      return allocateByDistanceThreshold(z, amount);
    }
  }
  return {};
}

}  // namespace moe
