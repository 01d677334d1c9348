#include "core/eval/reconstruction.h"

#include <algorithm>
#include <limits>

#include "core/engine/model.h"
#include "core/error.h"

namespace moe {
namespace {

Error invalid(const std::string& msg) { return Error(ErrorKind::InvalidArgument, msg); }

at::Tensor strided(const at::Tensor& x, int64_t n) {
  const int64_t N = x.size(0);
  if (n <= 0 || N <= n) return x.clone();
  at::Tensor idx = at::floor(at::arange(n, at::kDouble) * (static_cast<double>(N) / static_cast<double>(n))).to(at::kLong);
  return x.index_select(0, idx.to(x.device()));
}

class CaptureObserver : public ForwardObserver {
 public:
  CaptureObserver(int blocks, const ReconstructionOptions& o, const std::atomic<bool>* cancel)
      : opt(o), cancel_(cancel), inputs(static_cast<size_t>(blocks)), outputs(static_cast<size_t>(blocks)),
        blocks(static_cast<size_t>(blocks)) {}
  void onMoeBlock(const MoeTrace& t) override {
    const size_t j = static_cast<size_t>(t.moeIndex);
    inputs[j] = strided(t.input, opt.maxTokens);
    outputs[j] = strided(t.output, opt.maxTokens);
    if (opt.keepBlocks) blocks[j] = *t.block;
  }
  bool cancelled() const override { return cancel_ && cancel_->load(); }
  ReconstructionOptions opt;
  const std::atomic<bool>* cancel_;
  std::vector<at::Tensor> inputs, outputs;
  std::vector<std::optional<MoeBlock>> blocks;
};

// A fitted router mode starts from the average rows (the hook installs the fitted ones).
LayerPlan mergeablePlan(const LayerPlan& lp) {
  LayerPlan p = lp;
  if (isFittedRouter(p.router)) p.router = RouterMode::Average;
  return p;
}

}  // namespace

ReconstructionCache ReconstructionCache::build(Model& model, const at::Tensor& calibIds,
                                               const ReconstructionOptions& options, const std::atomic<bool>* cancel) {
  if (!calibIds.defined() || calibIds.dim() != 2 || calibIds.numel() == 0)
    throw invalid("reconstruction: calibration token ids [sequences, length] are needed");
  const int blocks = static_cast<int>(model.moeLayers().size());
  CaptureObserver obs(blocks, options, cancel);
  ForwardOptions fo;
  fo.computeLogits = false;
  if (blocks > 0) fo.stopAfterLayer = model.moeLayers().back() + 1;
  model.forward(calibIds, &obs, fo);
  ReconstructionCache c;
  c.inputs_ = std::move(obs.inputs);
  c.outputs_ = std::move(obs.outputs);
  c.blocks_ = std::move(obs.blocks);
  return c;
}

ReconstructionCache ReconstructionCache::fromTensors(std::vector<at::Tensor> inputs, std::vector<at::Tensor> outputs) {
  if (inputs.size() != outputs.size()) throw invalid("reconstruction: one output per input is needed");
  for (size_t j = 0; j < inputs.size(); ++j)
    if (inputs[j].dim() != 2 || outputs[j].sizes() != inputs[j].sizes())
      throw invalid("reconstruction: block inputs and outputs must both be [n, H]");
  ReconstructionCache c;
  c.inputs_ = std::move(inputs);
  c.outputs_ = std::move(outputs);
  c.blocks_.resize(c.inputs_.size());
  return c;
}

const MoeBlock* ReconstructionCache::block(int moeIndex) const {
  if (moeIndex < 0 || moeIndex >= static_cast<int>(blocks_.size())) return nullptr;
  const auto& b = blocks_[static_cast<size_t>(moeIndex)];
  return b ? &*b : nullptr;
}

double relativeL2(const at::Tensor& got, const at::Tensor& ref) {
  if (got.sizes() != ref.sizes()) throw invalid("relative error: tensors of different shapes");
  const double den = ref.to(at::kDouble).norm().item<double>();
  const double num = (got.to(at::kDouble) - ref.to(at::kDouble)).norm().item<double>();
  if (den == 0.0) return num == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return num / den;
}

double reconstructionError(const ReconstructionCache& cache, int moeIndex, const MoeBlock& merged) {
  if (moeIndex < 0 || moeIndex >= cache.numBlocks())
    throw invalid("reconstruction: no MoE block " + std::to_string(moeIndex) + " in the cache");
  const at::Tensor& x = cache.input(moeIndex);
  return relativeL2(merged.forward(x), cache.output(moeIndex));
}

double reconstructionError(const ReconstructionCache& cache, const MoeBlock& original, const LayerPlan& layer,
                           MergeSemantics semantics, const CompactRouterHook& routerHook) {
  if (layer.isIdentity()) return reconstructionError(cache, layer.moeIndex, original);
  const MoeBlock merged = applyLayerPlan(original, mergeablePlan(layer), semantics,
                                         semantics == MergeSemantics::Compact ? routerHook : CompactRouterHook());
  return reconstructionError(cache, layer.moeIndex, merged);
}

namespace {

// Calls f(j, original block, plan entry) for every block the plan merges; originals come from the
// cache when kept, else they are loaded from the model one at a time.
template <typename F>
void forEachMergedBlock(const ReconstructionCache& cache, const Model& model, const MergePlan& plan, F f) {
  for (int j = 0; j < cache.numBlocks(); ++j) {
    const LayerPlan* lp = plan.find(j);
    if (!lp || lp->isIdentity()) continue;
    std::optional<MoeBlock> loaded;
    const MoeBlock* original = cache.block(j);
    if (!original) original = &loaded.emplace(model.moeBlock(j));
    f(j, *original, *lp);
  }
}

}  // namespace

std::vector<LayerReconstruction> reconstructionErrors(const ReconstructionCache& cache, const Model& model,
                                                      const MergePlan& plan, const CompactRouterHook& routerHook) {
  std::vector<LayerReconstruction> out(static_cast<size_t>(cache.numBlocks()));
  for (int j = 0; j < cache.numBlocks(); ++j) out[static_cast<size_t>(j)].moeIndex = j;
  forEachMergedBlock(cache, model, plan, [&](int j, const MoeBlock& original, const LayerPlan& lp) {
    out[static_cast<size_t>(j)].tied = reconstructionError(cache, original, lp, MergeSemantics::Tied, routerHook);
    out[static_cast<size_t>(j)].compact = reconstructionError(cache, original, lp, MergeSemantics::Compact, routerHook);
  });
  return out;
}

std::vector<double> reconstructionErrors(const ReconstructionCache& cache, const Model& model, const MergePlan& plan,
                                         MergeSemantics semantics, const CompactRouterHook& routerHook) {
  std::vector<double> out(static_cast<size_t>(cache.numBlocks()), 0.0);
  forEachMergedBlock(cache, model, plan, [&](int j, const MoeBlock& original, const LayerPlan& lp) {
    out[static_cast<size_t>(j)] = reconstructionError(cache, original, lp, semantics, routerHook);
  });
  return out;
}

}  // namespace moe
