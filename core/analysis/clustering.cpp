#include "core/analysis/clustering.h"

#include <cmath>

#include "core/cluster/allocation.h"
#include "core/cluster/distance.h"
#include "core/cluster/tree.h"
#include "core/error.h"

namespace moe {

LayerTree buildLayerTree(const LayerStats& stats, const ClusteringChoice& choice) {
  LayerTree t;
  t.distances = stats.distances(choice.representation, choice.metric);
  t.linkage = linkage(condensedFromSquare(t.distances.data.data(), t.distances.rows), choice.method);
  t.leafOrder = leavesList(t.linkage);
  return t;
}

std::vector<int64_t> allocateClusters(const std::vector<LayerStats>& layers, const std::vector<LayerTree>& trees,
                                      AllocationRule rule, double amount) {
  switch (rule) {
    case AllocationRule::Uniform: {
      if (amount < 1 || std::floor(amount) != amount)
        throw Error(ErrorKind::InvalidArgument, "K must be a positive integer");
      std::vector<int64_t> experts;
      for (const auto& l : layers) experts.push_back(l.numExperts);
      std::vector<int64_t> k;
      for (int64_t e : experts) k.push_back(std::min<int64_t>(e, static_cast<int64_t>(amount)));
      return k;
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
