#pragma once
// A checkpoint opened for layer-streaming computation: config, architecture hooks and mapped
// tensors. A layer's weights are converted (dtype, device) only while that layer runs, so the
// model never sits in memory whole; activations of the whole batch are kept between layers.
#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/arch/architecture.h"
#include "core/engine/layer_stager.h"
#include "core/model/safetensors.h"
#include "core/nn/buffer_pool.h"

namespace moe {

// What a MoE block saw and did during a forward pass. Tensors are flattened over the batch:
// input/output [N, H], routerLogits [N, E], routing [N, k].
struct MoeTrace {
  int layer = 0;     // decoder layer index
  int moeIndex = 0;  // j-th MoE block
  const MoeBlock* block = nullptr;
  at::Tensor input, routerLogits, output;
  Routing routing;
  // Set by an observer's onMoeRouting when it computed the routed experts' weighted sum itself
  // (equal to block->combine(input, routing)); the block then adds only its shared expert.
  at::Tensor routedOutput;
};

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  // i = 0 embeddings, 1..L-1 after decoder layer i-1, L after the final norm (transformers' convention).
  virtual void onHiddenState(int /*i*/, const at::Tensor& /*hidden [B,T,H]*/) {}
  // After the block's routing, before its output: the analysis evaluates every expert on its routed
  // tokens anyway, and hands the block their weighted sum instead of having them run twice.
  virtual void onMoeRouting(MoeTrace& /*trace: input, routerLogits, routing*/) {}
  virtual void onMoeBlock(const MoeTrace& /*trace*/) {}
  virtual void onLayerDone(int /*layer*/, int /*numLayers*/) {}
  virtual bool cancelled() const { return false; }
};

// Where a forward pass spent its time, summed over its layers, by the host's clock (on a GPU that
// is the time to queue the work, except where something waited for the device).
struct ForwardTimes {
  double attention = 0;   // the layers' norms and attention, their weights' conversion included
  double blockBuild = 0;  // the MoE blocks' weights converted and stacked
  double routing = 0;     // router logits and top-k
  double observers = 0;   // the observers' MoE callbacks (an analysis: expert evaluation, statistics)
  double moeOutput = 0;   // the routed sum where no observer gave it, and the shared experts
  double denseMlp = 0;    // the dense layers' MLPs
  double staging = 0;     // waiting for a layer's staging (core/engine/layer_stager.h) to finish
};

struct ForwardOptions {
  bool computeLogits = true;
  // Replaces a MoE block before it runs (merges, alternative routers); moeIndex is the j-th block.
  std::function<void(int moeIndex, MoeBlock& block)> moeOverride;
  // Stop after this many decoder layers (-1: all), e.g. to analyse only the early blocks.
  int stopAfterLayer = -1;
  // Incremental decoding: the ids are the new tokens after decode->past cached ones (the
  // architecture must support a KV cache); the state advances by T when the call returns.
  DecodeState* decode = nullptr;
  // The MoE blocks to run, by block index, instead of those the layer's weights give (a resident
  // generator builds merged blocks once, not at every step); moeOverride is not applied to them.
  const std::vector<MoeBlock>* blocks = nullptr;
  // Receives (adds) where the time went.
  ForwardTimes* times = nullptr;
};

class Model {
 public:
  // Opens config.json and the safetensors files of a folder and checks every tensor's presence
  // and shape against the architecture's table (nothing is converted yet).
  static std::unique_ptr<Model> open(const std::string& dir, const Runtime& runtime);

  const std::string& folder() const { return dir_; }
  const ModelConfig& config() const { return arch_->config(); }
  const Architecture& arch() const { return *arch_; }
  Architecture& arch() { return *arch_; }
  const TensorStore& store() const { return *store_; }
  const Runtime& runtime() const { return rt_; }
  int numLayers() const { return static_cast<int>(config().numLayers); }
  const std::vector<int>& moeLayers() const { return moeLayers_; }  // decoder layer of each MoE block

  LayerWeights loadLayer(int layer) const;
  // Resident: every layer's converted tensors stay in memory after first use (generation, when the
  // model fits), instead of being converted anew by each forward. (The mapped file pages are released
  // either way: converted tensors are copies.)
  void setResident(bool resident);
  bool resident() const { return resident_; }
  // How a streaming forward pass (not a resident one) reads the next layer's weights while the
  // current one computes (core/engine/layer_stager.h); Auto by default. chunkBytes: the size of each
  // of the copies' two host buffers.
  void setStaging(Staging staging, int64_t chunkBytes = int64_t{64} << 20) {
    staging_ = staging;
    stagingChunk_ = chunkBytes;
  }
  Staging staging() const { return staging_; }
  // Why staging stopped during the last forward pass (it then read the weights as without it); empty
  // when it did not.
  const std::string& stagingFailure() const { return stagingFailure_; }
  at::Tensor loadTensor(const std::string& name) const;  // converted to the runtime dtype/device
  MoeBlock moeBlock(int moeIndex) const;                  // loads that layer's weights
  // Drops the page-cache pages of layer's mapped tensors (its converted copies stay valid).
  void releaseLayerPages(int layer) const;

  // ids [B, T] int64 -> logits [B, T, V] (undefined when computeLogits is false).
  at::Tensor forward(const at::Tensor& ids, ForwardObserver* observer = nullptr,
                     const ForwardOptions& options = {});

 private:
  Model() = default;
  void validateShapes() const;

  std::string dir_;
  Runtime rt_;
  std::unique_ptr<TensorStore> store_;
  std::unique_ptr<Architecture> arch_;
  std::vector<int> moeLayers_;
  mutable BufferPool pool_;
  bool resident_ = false;
  Staging staging_ = Staging::Auto;
  int64_t stagingChunk_ = int64_t{64} << 20;
  std::string stagingFailure_;
  mutable std::vector<LayerWeights> residentLayers_;
  mutable std::map<std::string, at::Tensor> residentGlobals_;
};


}  // namespace moe
