#include "core/cluster/allocation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/cluster/tree.h"
#include "core/error.h"

namespace moe {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorKind::InvalidArgument, message);
}

struct Ranked {
  double frequency;
  int64_t layer;
  int64_t expert;
};

// The total order of the frequency rule: frequency descending, then layer, then expert index.
bool rankedBefore(const Ranked& l, const Ranked& r) {
  if (l.frequency != r.frequency) return l.frequency > r.frequency;
  if (l.layer != r.layer) return l.layer < r.layer;
  return l.expert < r.expert;
}

}  // namespace

std::vector<int64_t> allocateUniform(const std::vector<int64_t>& expertsPerLayer, int64_t k, UniformCap cap) {
  if (expertsPerLayer.empty()) invalid("uniform allocation: no MoE layers");
  std::vector<int64_t> out;
  out.reserve(expertsPerLayer.size());
  for (size_t l = 0; l < expertsPerLayer.size(); ++l) {
    const int64_t experts = expertsPerLayer[l];
    if (experts < 1) {
      std::ostringstream s;
      s << "uniform allocation: layer " << l << " has " << experts << " experts";
      invalid(s.str());
    }
    if (k < 1 || (k > experts && cap == UniformCap::Reject)) {
      std::ostringstream s;
      s << "uniform allocation: K = " << k << " is not within 1.." << experts << " for layer " << l << " ("
        << experts << " experts)";
      invalid(s.str());
    }
    out.push_back(std::min(k, experts));
  }
  return out;
}

FrequencyAllocation allocateByFrequency(const std::vector<std::vector<double>>& frequencies, int64_t totalClusters) {
  const auto layers = static_cast<int64_t>(frequencies.size());
  if (layers == 0) invalid("frequency allocation: no MoE layers");
  int64_t totalExperts = 0;
  for (int64_t l = 0; l < layers; ++l) {
    if (frequencies[l].empty()) invalid("frequency allocation: layer " + std::to_string(l) + " has no experts");
    for (size_t e = 0; e < frequencies[l].size(); ++e) {
      const double f = frequencies[l][e];
      if (!std::isfinite(f) || f < 0) {
        std::ostringstream s;
        s << "frequency allocation: layer " << l << ", expert " << e << ": usage frequency " << f
          << " is not finite and non-negative";
        invalid(s.str());
      }
    }
    totalExperts += static_cast<int64_t>(frequencies[l].size());
  }
  if (totalClusters < layers || totalClusters > totalExperts) {
    std::ostringstream s;
    s << "frequency allocation: a budget of " << totalClusters << " clusters is not within " << layers << ".."
      << totalExperts << " (one per layer .. all " << totalExperts << " experts of " << layers << " layers)";
    invalid(s.str());
  }

  FrequencyAllocation out;
  out.clusters.assign(static_cast<size_t>(layers), 1);
  out.threshold = std::numeric_limits<double>::infinity();

  // Everything but each layer's most used expert competes for the remaining slots.
  std::vector<Ranked> pool;
  pool.reserve(static_cast<size_t>(totalExperts));
  for (int64_t l = 0; l < layers; ++l) {
    std::vector<Ranked> layer;
    for (size_t e = 0; e < frequencies[l].size(); ++e)
      layer.push_back(Ranked{frequencies[l][e], l, static_cast<int64_t>(e)});
    // Swap the layer's top expert out rather than erase it: the pool's order does not matter
    // (nth_element below applies the total order), and GCC 12 misreads erase's memmove bound.
    std::iter_swap(std::min_element(layer.begin(), layer.end(), rankedBefore), layer.end() - 1);
    layer.pop_back();
    pool.insert(pool.end(), layer.begin(), layer.end());
  }
  const int64_t slots = totalClusters - layers;
  if (slots == 0) return out;
  std::nth_element(pool.begin(), pool.begin() + (slots - 1), pool.end(), rankedBefore);
  out.threshold = pool[static_cast<size_t>(slots - 1)].frequency;
  for (int64_t i = 0; i < slots; ++i) ++out.clusters[pool[static_cast<size_t>(i)].layer];
  return out;
}

std::vector<int64_t> allocateByDistanceThreshold(const std::vector<Linkage>& trees, double height) {
  if (trees.empty()) invalid("distance allocation: no MoE layers");
  if (std::isnan(height)) invalid("distance allocation: the threshold height is NaN");
  std::vector<int64_t> out;
  out.reserve(trees.size());
  for (size_t l = 0; l < trees.size(); ++l) {
    try {
      out.push_back(clusterCountAtHeight(trees[l], height));
    } catch (const Error& e) {
      throw Error(e.kind(), "distance allocation, layer " + std::to_string(l) + ": " + e.what());
    }
  }
  return out;
}

}  // namespace moe
