#pragma once
// Everything the explorer shows about one analysis, read from the store once (in a worker): the
// store's description, every MoE block's statistics and the distance matrices the store holds, and
// (when the model folder is available) a memory model taken from the checkpoint's tensor headers.
// Plain data: no torch, no Qt.
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/analysis/layer_stats.h"
#include "core/analysis/store.h"
#include "app/gui/stored_distances.h"

namespace moe {
struct LayerTree;
namespace gui {

struct MemoryModel {
  bool known = false;
  double totalBytes = 0;                // the whole checkpoint as stored
  std::vector<double> layerBytes;       // per decoder layer, as stored
  std::vector<double> bytesPerExpert;   // per MoE block: bytes one routed expert takes
};

struct AnalysisData {
  std::string storePath;
  moe::AnalysisInfo info;
  std::vector<moe::LayerStats> layers;  // index = MoE block
  // Index = MoE block: the distance matrices read or computed so far. Filled on first use by
  // distanceMatrix, from the GUI thread and the threads of a clustering switch (the lock guards
  // the cache; reads and computations run outside it).
  mutable std::vector<StoredDistances> distances;
  std::shared_ptr<std::mutex> distancesLock = std::make_shared<std::mutex>();
  MemoryModel memory;
  // The default plan's trees (defaultPlan), built on the thread that read the statistics so that
  // the explorer does not wait for 60 linkages when it opens; null when not built there.
  std::shared_ptr<const std::vector<moe::LayerTree>> firstTrees;
  // MoE blocks still being analysed: a partial result shown while the run goes on holds the first
  // info.moeLayers.size() - pendingLayers blocks; the final result (0 pending) replaces it.
  int pendingLayers = 0;

  int numMoeLayers() const { return static_cast<int>(layers.size()); }
  int64_t maxExperts() const;
  // Block j's distance matrix as the store holds it, else computed from its statistics (stores
  // without distances, hand-made data); read or computed once, then kept. Throws moe::Error when
  // the representation is missing or the stored dataset is malformed. Safe to call from several
  // threads; the reference stays valid as long as this data, or until keepDistances drops its
  // choice.
  const moe::Matrix& distanceMatrix(int j, moe::Representation representation, const std::string& metric) const;
  // The same matrix as a copy the caller owns, and nothing kept: for background work (the trees of
  // choices the user may switch to next), which must neither hold a reference keepDistances could
  // drop nor grow the cache by 120 MB per choice at 512 experts x 60 blocks.
  moe::Matrix distanceMatrixCopy(int j, moe::Representation representation, const std::string& metric) const;
  // Drops the matrices of every distance choice but those in `keep`: at 512 experts x 60 blocks
  // one choice is 120 MB, and a user comparing the eight choices would pass 1 GB. A dropped one is
  // read again when next used. Call it between uses only (it invalidates the references
  // distanceMatrix gave for the dropped choices).
  // The dropped matrices' memory is kept for the next reads (recycle).
  void keepDistances(const std::set<DistanceKey>& keep) const;
  // Keeps a matrix's memory for the next read of a distance matrix: a fresh 2 MB matrix (512
  // experts) costs 512 page faults, which were most of a read's 1.5-2 ms and, at 60 blocks, half
  // of a switch to distances not read before. At most one matrix per block is kept.
  void recycle(moe::Matrix&& m) const;
  // How many matrices are held (all blocks, all choices).
  size_t heldDistances() const;

 private:
  // Recycled buffers, under distancesLock.
  mutable std::vector<std::vector<double>> spareBuffers_;
  // A recycled buffer of at least `values` doubles, else an empty vector.
  std::vector<double> takeBuffer(size_t values) const;
  // As the store holds it, else computed from the statistics; nothing kept.
  moe::Matrix readOrComputeDistances(const moe::LayerStats& stats, int j, const DistanceKey& key,
                                     std::vector<double>&& buffer) const;
};

using AnalysisDataPtr = std::shared_ptr<const AnalysisData>;

}  // namespace gui
}  // namespace moe
