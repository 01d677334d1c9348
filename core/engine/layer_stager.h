#pragma once
// Reads the next decoder layer's weights while the current one computes. Streaming a model layer by
// layer otherwise waits at each layer for its weights: for the file (a model larger than memory, or
// not yet in the page cache) and, on a GPU, for the copy to the device, which dominated the GPU
// analysis (1.15 GB per Qwen1.5-MoE layer against a few milliseconds of compute).
//
// - Read-ahead (a CPU runtime): a background thread reads every page of the layer's mapped tensors
//   into the page cache (readIntoPageCache, which leaves them unmapped), so the file is read before
//   the layer needs it.
// - Copies (a GPU runtime): a background thread copies the layer's stored bytes through two pinned
//   host buffers onto the device, on a stream of its own, so the copy overlaps the current layer's
//   kernels. The layer then reads its weights from those copies (StagedBytes), converting dtype on
//   the device. `Staging::Copy` does the same on a CPU runtime (into ordinary memory), which is how
//   the tests check the copy path without a GPU.
//
// Auto leaves layers under 16 MB (a thread would start slower than they are read). One layer is
// staged at a time, one ahead of the one computing: a GPU holds one extra layer of raw
// weights. A staging that fails (out of device memory, say) leaves the layer to be read as without
// staging, and staging stops for the rest of the pass (failure() says why).
#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Stream.h>

#include "core/arch/architecture.h"
#include "core/model/staged_bytes.h"

namespace moe {

enum class Staging {
  Off,
  Auto,  // read-ahead on a CPU runtime, copies on a GPU
  Copy,  // copies on any runtime
};
const char* stagingName(Staging staging);
Staging parseStaging(const std::string& text);  // "off" | "auto" | "copy"; throws InvalidArgument

class LayerStager {
 public:
  // chunkBytes: the size of each of the two host buffers copies pass through.
  LayerStager(const TensorStore& store, const Architecture& arch, const Runtime& rt, Staging staging,
              int64_t chunkBytes = int64_t{64} << 20);
  ~LayerStager();  // asks the staging in flight to stop, and waits for it
  LayerStager(const LayerStager&) = delete;
  LayerStager& operator=(const LayerStager&) = delete;

  bool copies() const { return copies_; }
  // Starts staging `layer` (after taking the previous one: one at a time).
  void start(int layer);
  // The copies start(layer) made, once they are complete (waits for them); null for read-ahead, for a
  // layer not started, or after a failure.
  std::shared_ptr<const StagedBytes> take(int layer);
  const std::string& failure() const { return failure_; }

 private:
  // `total`: the tensors' bytes.
  std::shared_ptr<StagedBytes> stage(const std::vector<const TensorInfo*>& tensors, int64_t total,
                                     const std::optional<c10::Stream>& consumer);
  std::vector<const TensorInfo*> storedTensors(int layer) const;

  // Auto stages layers of at least this many stored bytes.
  static constexpr int64_t kMinAutoBytes = int64_t{16} << 20;

  const TensorStore& store_;
  const Architecture& arch_;
  Runtime rt_;
  Staging staging_ = Staging::Off;
  bool enabled_ = false;
  bool copies_ = false;
  int64_t chunkBytes_;
  std::atomic<bool> stop_{false};
  int pendingLayer_ = -1;
  std::future<std::shared_ptr<StagedBytes>> pending_;
  std::string failure_;
};

}  // namespace moe
