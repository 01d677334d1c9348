#include "app/gui/plan_derivation.h"

#include <algorithm>
#include <optional>

#include "app/gui/parallel_for.h"
#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "core/error.h"

namespace moe {
namespace gui {

int64_t AnalysisData::maxExperts() const {
  int64_t e = 0;
  for (const auto& l : layers) e = std::max(e, l.numExperts);
  return e;
}

moe::ClusteringChoice clusteringChoice(const PlanState& state) {
  moe::ClusteringChoice c;
  c.representation = state.representation;
  c.metric = state.metric;
  c.method = state.linkage;
  return c;
}

const moe::Matrix& AnalysisData::distanceMatrix(int j, moe::Representation representation,
                                                const std::string& metric) const {
  const moe::LayerStats& stats = layers.at(static_cast<size_t>(j));
  const DistanceKey key{representation, metric};
  auto cached = [&]() -> const moe::Matrix* {  // under the lock
    if (distances.size() < layers.size()) distances.resize(layers.size());  // map nodes (and references) survive
    const StoredDistances& known = distances[static_cast<size_t>(j)];
    const auto it = known.find(key);
    return it == known.end() ? nullptr : &it->second;
  };
  {
    const std::lock_guard<std::mutex> lock(*distancesLock);
    if (const moe::Matrix* m = cached()) return *m;
  }
  // Read or computed without holding the lock, so that the threads of a clustering switch read
  // and link blocks side by side (readStoredDistance serialises its HDF5 calls itself), into the
  // memory of a dropped matrix where there is one.
  moe::Matrix m = readOrComputeDistances(
      stats, j, key, takeBuffer(static_cast<size_t>(stats.numExperts) * static_cast<size_t>(stats.numExperts)));
  const std::lock_guard<std::mutex> lock(*distancesLock);
  if (const moe::Matrix* other = cached()) return *other;  // another thread was first
  return distances[static_cast<size_t>(j)].emplace(key, std::move(m)).first->second;
}

moe::Matrix AnalysisData::distanceMatrixCopy(int j, moe::Representation representation,
                                             const std::string& metric) const {
  const moe::LayerStats& stats = layers.at(static_cast<size_t>(j));
  const DistanceKey key{representation, metric};
  std::vector<double> buffer = takeBuffer(static_cast<size_t>(stats.numExperts) * static_cast<size_t>(stats.numExperts));
  {
    const std::lock_guard<std::mutex> lock(*distancesLock);
    if (static_cast<size_t>(j) < distances.size()) {
      const StoredDistances& known = distances[static_cast<size_t>(j)];
      if (const auto it = known.find(key); it != known.end()) {
        moe::Matrix copy;
        copy.rows = it->second.rows;
        copy.cols = it->second.cols;
        copy.data = std::move(buffer);
        copy.data.assign(it->second.data.begin(), it->second.data.end());
        return copy;
      }
    }
  }
  return readOrComputeDistances(stats, j, key, std::move(buffer));
}

moe::Matrix AnalysisData::readOrComputeDistances(const moe::LayerStats& stats, int j, const DistanceKey& key,
                                                 std::vector<double>&& buffer) const {
  std::optional<moe::Matrix> m;
  if (!storePath.empty()) m = readStoredDistance(storePath, j, stats.numExperts, key, std::move(buffer));
  return m ? std::move(*m) : stats.distances(key.first, key.second);
}

void AnalysisData::keepDistances(const std::set<DistanceKey>& keep) const {
  std::vector<moe::Matrix> dropped;
  {
    const std::lock_guard<std::mutex> lock(*distancesLock);
    for (StoredDistances& block : distances)
      for (auto it = block.begin(); it != block.end();) {
        if (keep.count(it->first)) {
          ++it;
          continue;
        }
        dropped.push_back(std::move(it->second));
        it = block.erase(it);
      }
  }
  for (moe::Matrix& m : dropped) recycle(std::move(m));
}

void AnalysisData::recycle(moe::Matrix&& m) const {
  const std::lock_guard<std::mutex> lock(*distancesLock);
  if (spareBuffers_.size() < layers.size() && !m.data.empty()) spareBuffers_.push_back(std::move(m.data));
}

std::vector<double> AnalysisData::takeBuffer(size_t values) const {
  const std::lock_guard<std::mutex> lock(*distancesLock);
  for (auto it = spareBuffers_.begin(); it != spareBuffers_.end(); ++it)
    if (it->capacity() >= values) {
      std::vector<double> buffer = std::move(*it);
      spareBuffers_.erase(it);
      return buffer;
    }
  return {};
}

size_t AnalysisData::heldDistances() const {
  const std::lock_guard<std::mutex> lock(*distancesLock);
  size_t n = 0;
  for (const StoredDistances& block : distances) n += block.size();
  return n;
}

std::vector<moe::LayerTree> buildTrees(const AnalysisData& data, const PlanState& state) {
  const moe::ClusteringChoice choice = clusteringChoice(state);
  moe::validateClusteringChoice(choice);  // core's rule, before any tree is built
  // buildLayerTree's steps, from the distances the store holds: computing them again from the
  // [E, H] statistics would cost O(E^2 H) per block on the GUI thread. The tree keeps no copy of
  // its distances (the views read data.distanceMatrix): one copy per cached clustering choice was
  // 125 MB at 512 experts x 60 blocks.
  // One block per task, read (or computed) and linked: a tree of 512 leaves takes about 0.7 ms of
  // linkage alone here (1-2.5 ms beside the views and the background work), and a representation
  // not read before 0.3-1 ms more per block to read.
  std::vector<moe::LayerTree> trees(static_cast<size_t>(data.numMoeLayers()));
  parallelFor(data.numMoeLayers(), [&](int j) {
    const moe::Matrix& distances = data.distanceMatrix(j, choice.representation, choice.metric);
    trees[static_cast<size_t>(j)] = linkTree(distances, choice.method);
  });
  return trees;
}

moe::LayerTree linkTree(const moe::Matrix& distances, moe::LinkageMethod method) {
  moe::LayerTree t;
  t.linkage = moe::linkageFromSquare(distances.data.data(), distances.rows, method);
  t.leafOrder = moe::leavesList(t.linkage);
  return t;
}

std::vector<int64_t> allocate(const AnalysisData& data, const std::vector<moe::LayerTree>& trees,
                              const PlanState& state) {
  const int64_t blocks = data.numMoeLayers();
  std::vector<int64_t> k;
  switch (state.allocation) {
    case Allocation::Uniform:
      k = moe::allocateClusters(data.layers, trees, moe::AllocationRule::Uniform,
                                static_cast<double>(std::max<int64_t>(1, state.globalK)));
      break;
    case Allocation::Frequency: {
      int64_t total = 0;
      for (const auto& l : data.layers) total += l.numExperts;
      const int64_t budget = std::clamp<int64_t>(state.globalK * blocks, blocks, total);
      k = moe::allocateClusters(data.layers, trees, moe::AllocationRule::GlobalFrequency, static_cast<double>(budget));
      break;
    }
    case Allocation::Distance:
      k = moe::allocateClusters(data.layers, trees, moe::AllocationRule::DistanceThreshold, state.height);
      break;
  }
  for (const auto& [j, kj] : state.layerK)
    if (j >= 0 && j < blocks)
      k[static_cast<size_t>(j)] = std::clamp<int64_t>(kj, 1, data.layers[static_cast<size_t>(j)].numExperts);
  return k;
}

std::vector<int64_t> leafOrdered(const moe::LayerTree& tree, const std::vector<int64_t>& labels) {
  const int64_t n = static_cast<int64_t>(labels.size());
  auto checked = [&](int64_t label) {
    if (label >= n) throw moe::Error(moe::ErrorKind::InvalidArgument, "group label " + std::to_string(label) +
                                                                      " outside 0.." + std::to_string(n - 1));
    return label;
  };
  std::vector<int64_t> rename(labels.size(), -1), out(labels.size(), -1);
  int64_t next = 0;
  for (int64_t leaf : tree.leafOrder) {
    const int64_t label = checked(labels.at(static_cast<size_t>(leaf)));
    if (label >= 0 && rename[static_cast<size_t>(label)] < 0) rename[static_cast<size_t>(label)] = next++;
  }
  for (size_t e = 0; e < labels.size(); ++e)
    if (labels[e] >= 0) out[e] = rename[static_cast<size_t>(labels[e])];
  return out;
}

std::vector<int64_t> leafOrderedClusters(const moe::LayerTree& tree, int64_t k) {
  return leafOrdered(tree, moe::cutTree(tree.linkage, k));
}

std::vector<std::vector<int64_t>> leafOrderedClusters(const moe::LayerTree& tree, const std::vector<int64_t>& ks) {
  std::vector<std::vector<int64_t>> out = moe::cutTreeMany(tree.linkage, ks);
  for (std::vector<int64_t>& labels : out) labels = leafOrdered(tree, labels);
  return out;
}

DerivedPlan derive(const AnalysisData& data, const PlanState& state, SharedTrees trees, const DerivedPlan* previous) {
  DerivedPlan d;
  d.trees = trees ? std::move(trees) : std::make_shared<const std::vector<moe::LayerTree>>(buildTrees(data, state));
  const std::vector<moe::LayerTree>& t = *d.trees;
  d.k = allocate(data, t, state);
  const bool reuse = previous && previous->trees == d.trees && previous->clusters.size() == t.size();
  for (size_t j = 0; j < t.size(); ++j)
    d.clusters.push_back(reuse && previous->k[j] == d.k[j] ? previous->clusters[j] : leafOrderedClusters(t[j], d.k[j]));
  return d;
}

PlanState defaultPlan(const AnalysisData& data) {
  PlanState s;
  s.globalK = std::max<int64_t>(1, data.maxExperts() / 2);
  if (data.layers.empty() || data.layers.front().expertOutputMean.empty())
    s.representation = moe::Representation::ExpertOutputRouted;
  return s;
}

double cutHeightForK(const moe::Linkage& z, int64_t k) {
  const auto& m = z.merges;
  const int64_t n = z.n;
  if (n <= 1 || m.empty()) return 0;
  if (k <= 1) return m.back().height * 1.05;
  if (k >= n) return m.front().height * 0.5;
  return 0.5 * (m[static_cast<size_t>(n - k - 1)].height + m[static_cast<size_t>(n - k)].height);
}

}  // namespace gui
}  // namespace moe
