// Core (ATen) headers first: Qt's `slots`/`signals` macros must not be defined while they parse.
#include "core/engine/model.h"
#include "core/error.h"
#include "core/eval/reconstruction.h"

#include <chrono>
#include <optional>

#include "app/gui/layer_error_worker.h"

namespace moe {
namespace gui {
namespace {

// Below this checkpoint size the original blocks stay in memory, so a score costs one merge and
// one block forward; above it each score reloads its block from the memory-mapped checkpoint.
// (Stored bytes; kept blocks are fp32, up to twice that in memory.)
constexpr double kKeepBlocksBelowBytes = 1e9;

}  // namespace

struct LayerErrorWorker::State {
  int generation = -1;
  std::unique_ptr<moe::Model> model;
  std::optional<moe::ReconstructionCache> cache;
  // Large models: the block scored last, reused while the user edits the same layer.
  int loadedIndex = -1;
  std::optional<moe::MoeBlock> loaded;

  const moe::MoeBlock& original(int j) {
    if (const moe::MoeBlock* b = cache->block(j)) return *b;
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

void LayerErrorWorker::build(int generation, const AnalysisDataPtr& data, std::shared_ptr<std::atomic<bool>> cancel) {
  state_ = std::make_unique<State>();  // the previous cache is dropped before the new one is built
  try {
    const auto start = std::chrono::steady_clock::now();
    const moe::AnalysisInfo& info = data->info;
    if (info.tokenShape.size() != 2 || info.tokenIds.empty())
      throw moe::Error(moe::ErrorKind::InvalidArgument, "the analysis holds no calibration tokens");
    auto model = moe::Model::open(info.modelDir, moe::Runtime::make("cpu", "fp32"));
    // The analysis' own calibration tokens: the errors are measured on what the statistics saw.
    at::Tensor ids = at::tensor(info.tokenIds, at::kLong).reshape({info.tokenShape[0], info.tokenShape[1]});
    moe::ReconstructionOptions options;
    options.keepBlocks = data->memory.known && data->memory.totalBytes < kKeepBlocksBelowBytes;
    auto cache = moe::ReconstructionCache::build(*model, ids, options, cancel.get());
    if (cancel->load()) throw moe::Error(moe::ErrorKind::Cancelled, "cancelled");
    state_->generation = generation;
    state_->model = std::move(model);
    state_->cache.emplace(std::move(cache));
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
    const double tied = moe::reconstructionError(*state_->cache, original, plan, moe::MergeSemantics::Tied);
    const double compact = moe::reconstructionError(*state_->cache, original, plan, moe::MergeSemantics::Compact);
    emit scored(generation, key, tied, compact);
  } catch (const std::exception& e) {
    emit scoreFailed(generation, key, QString::fromStdString(e.what()));
  }
}

}  // namespace gui
}  // namespace moe
