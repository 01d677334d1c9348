// Core (ATen) headers first: Qt's `slots`/`signals` macros must not be defined while they parse.
#include "core/engine/model.h"
#include "core/error.h"
#include "core/eval/reconstruction.h"
#include "core/merge/neuron_alignment.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <functional>
#include <optional>
#include <vector>

#include "app/gui/layer_error_worker.h"

namespace moe {
namespace gui {
namespace {

// Below this checkpoint size the original blocks stay in memory, so a score costs one merge and
// one block forward; above it each score reloads its block from the memory-mapped checkpoint.
// (Stored bytes; kept blocks are fp32, up to twice that in memory.) The explorer's memory budget
// is 1 GB in all: at 1 GB the kept blocks of a 394 MB checkpoint (512 experts x 60 blocks) took
// 790 MB, so only checkpoints whose fp32 blocks fit in ~300 MB are kept.
constexpr double kKeepBlocksBelowBytes = 1.5e8;

// ReconstructionCache::build's capture (core/eval/reconstruction.cpp), repeated here for one thing
// core's build does not offer: a report after every decoder layer, so that the explorer can show
// how far the forward pass is and when it will end. Same tokens (the evenly strided subsample
// floor(i * N / n) of ReconstructionOptions::maxTokens), so the errors are core's to the last bit.
class CaptureWithProgress : public moe::ForwardObserver {
 public:
  CaptureWithProgress(int blocks, int64_t maxTokens, bool keepBlocks, const std::atomic<bool>* cancel,
                      std::function<void(int)> layerDone)
      : inputs(static_cast<size_t>(blocks)), outputs(static_cast<size_t>(blocks)), blocks(static_cast<size_t>(blocks)),
        maxTokens_(maxTokens), keepBlocks_(keepBlocks), cancel_(cancel), layerDone_(std::move(layerDone)) {}

  void onMoeBlock(const moe::MoeTrace& t) override {
    const size_t j = static_cast<size_t>(t.moeIndex);
    inputs[j] = strided(t.input);
    outputs[j] = strided(t.output);
    if (keepBlocks_) blocks[j] = *t.block;
  }
  void onLayerDone(int layer, int) override { layerDone_(layer + 1); }
  bool cancelled() const override { return cancel_->load(); }

  std::vector<at::Tensor> inputs, outputs;
  std::vector<std::optional<moe::MoeBlock>> blocks;

 private:
  at::Tensor strided(const at::Tensor& x) const {
    const int64_t N = x.size(0);
    if (maxTokens_ <= 0 || N <= maxTokens_) return x.clone();
    const at::Tensor idx =
        at::floor(at::arange(maxTokens_, at::kDouble) * (static_cast<double>(N) / static_cast<double>(maxTokens_)))
            .to(at::kLong);
    return x.index_select(0, idx.to(x.device()));
  }

  int64_t maxTokens_;
  bool keepBlocks_;
  const std::atomic<bool>* cancel_;
  std::function<void(int)> layerDone_;
};

}  // namespace

struct LayerErrorWorker::State {
  int generation = -1;
  std::unique_ptr<moe::Model> model;
  std::optional<moe::ReconstructionCache> cache;
  std::vector<std::optional<moe::MoeBlock>> kept;  // small models: every original block
  // Large models: the block scored last, reused while the user edits the same layer.
  int loadedIndex = -1;
  std::optional<moe::MoeBlock> loaded;

  const moe::MoeBlock& original(int j) {
    if (static_cast<size_t>(j) < kept.size() && kept[static_cast<size_t>(j)]) return *kept[static_cast<size_t>(j)];
    if (loadedIndex != j) {
      loaded.reset();
      loaded.emplace(model->moeBlock(j));
      loadedIndex = j;
    }
    return *loaded;
  }
};

LayerErrorWorker::LayerErrorWorker() : state_(std::make_unique<State>()) {}
LayerErrorWorker::~LayerErrorWorker() = default;

void LayerErrorWorker::build(int generation, const AnalysisDataPtr& data, std::shared_ptr<std::atomic<bool>> cancel,
                             std::shared_ptr<const std::atomic<bool>> pause) {
  state_ = std::make_unique<State>();  // the previous cache is dropped before the new one is built
  try {
    const auto start = std::chrono::steady_clock::now();
    const moe::AnalysisInfo& info = data->info;
    if (info.tokenShape.size() != 2 || info.tokenIds.empty())
      throw moe::Error(moe::ErrorKind::InvalidArgument, "the analysis holds no calibration tokens");
    auto model = moe::Model::open(info.modelDir, moe::Runtime::make("cpu", "fp32"));
    // The analysis' own calibration tokens: the errors are measured on what the statistics saw.
    at::Tensor ids = at::tensor(info.tokenIds, at::kLong).reshape({info.tokenShape[0], info.tokenShape[1]});
    const moe::ReconstructionOptions defaults;
    const bool keepBlocks = data->memory.known && data->memory.totalBytes < kKeepBlocksBelowBytes;
    const int blocks = static_cast<int>(model->moeLayers().size());
    // Only the layers up to the last MoE block run (as in ReconstructionCache::build).
    const int layers = blocks > 0 ? model->moeLayers().back() + 1 : 0;
    CaptureWithProgress capture(blocks, defaults.maxTokens, keepBlocks, cancel.get(),
                                [&](int done) {
                                  emit buildProgressed(generation, done, layers);
                                  while (pause && pause->load() && !cancel->load())
                                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                });
    emit buildProgressed(generation, 0, layers);
    moe::ForwardOptions fo;
    fo.computeLogits = false;
    if (blocks > 0) fo.stopAfterLayer = layers;
    model->forward(ids, &capture, fo);
    if (cancel->load()) throw moe::Error(moe::ErrorKind::Cancelled, "cancelled");
    state_->generation = generation;
    state_->model = std::move(model);
    state_->cache.emplace(moe::ReconstructionCache::fromTensors(std::move(capture.inputs), std::move(capture.outputs)));
    state_->kept = std::move(capture.blocks);
    emit built(generation, state_->cache->tokens(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  } catch (const moe::Error& e) {
    state_ = std::make_unique<State>();
    emit buildFailed(generation, QString::fromStdString(e.what()), e.kind() == moe::ErrorKind::Cancelled);
  } catch (const std::exception& e) {
    state_ = std::make_unique<State>();
    emit buildFailed(generation, QString::fromStdString(e.what()), false);
  }
}

void LayerErrorWorker::score(int generation, const QString& key, const moe::LayerPlan& plan) {
  if (generation != state_->generation || !state_->cache) return;  // a request for a cache that is gone
  try {
    const moe::MoeBlock& original = state_->original(plan.moeIndex);
    // An aligned merge (REAM, "align neurons") needs its permutations: core's rule on the block's
    // cached calibration inputs (the same tokens the error is measured on).
    moe::LayerPlan entry = plan;
    if (entry.needsAlignment() && !entry.neuronPermutation)
      entry.neuronPermutation = std::make_shared<const moe::NeuronPermutations>(
          moe::alignBlockNeurons(original, entry, state_->cache->input(entry.moeIndex)));
    const double tied = moe::reconstructionError(*state_->cache, original, entry, moe::MergeSemantics::Tied);
    const double compact = moe::reconstructionError(*state_->cache, original, entry, moe::MergeSemantics::Compact);
    emit scored(generation, key, tied, compact);
  } catch (const std::exception& e) {
    emit scoreFailed(generation, key, QString::fromStdString(e.what()));
  }
}

}  // namespace gui
}  // namespace moe
