#pragma once
// Layer reconstruction error: how far a merged MoE block's output is from the original block's on
// the calibration tokens, ||merged(x) - original(x)|| / ||original(x)|| (Frobenius over the tokens
// and the hidden dimension), per block, for tied and compact semantics.
//
// Interactive use: ReconstructionCache::build runs ONE forward pass and keeps, per MoE block, the
// inputs of an evenly strided subsample of the calibration tokens and the original block's outputs
// on them; every candidate plan entry is then scored from the cache (one block forward on the
// subsample, no model pass).
#include <ATen/ATen.h>

#include <atomic>
#include <optional>
#include <vector>

#include "core/merge/merge.h"
#include "core/merge/plan.h"
#include "core/nn/moe_block.h"

namespace moe {

class Model;

struct ReconstructionOptions {
  int64_t maxTokens = 2048;  // tokens kept per block (evenly strided over the calibration tokens)
  bool keepBlocks = false;   // keep every original MoE block in memory (small models: no reload per score)
};

class ReconstructionCache {
 public:
  // One forward pass over `calibIds` [B, T] (stops after the last MoE layer).
  static ReconstructionCache build(Model& model, const at::Tensor& calibIds, const ReconstructionOptions& options = {},
                                   const std::atomic<bool>* cancel = nullptr);
  // From given inputs/outputs (tests, or callers that already hold them).
  static ReconstructionCache fromTensors(std::vector<at::Tensor> inputs, std::vector<at::Tensor> outputs);

  int numBlocks() const { return static_cast<int>(inputs_.size()); }
  int64_t tokens() const { return inputs_.empty() ? 0 : inputs_[0].size(0); }
  const at::Tensor& input(int moeIndex) const { return inputs_.at(static_cast<size_t>(moeIndex)); }    // [n, H]
  const at::Tensor& output(int moeIndex) const { return outputs_.at(static_cast<size_t>(moeIndex)); }  // [n, H]
  // The original block when the cache kept it (ReconstructionOptions::keepBlocks), else nullptr.
  const MoeBlock* block(int moeIndex) const;

 private:
  std::vector<at::Tensor> inputs_, outputs_;
  std::vector<std::optional<MoeBlock>> blocks_;
};

// ||got - ref|| / ||ref|| (0 when both are 0).
double relativeL2(const at::Tensor& got, const at::Tensor& ref);

// Error of one plan entry applied to `original` (the block the cache was built from).
double reconstructionError(const ReconstructionCache& cache, const MoeBlock& original, const LayerPlan& layer,
                           MergeSemantics semantics, const CompactRouterHook& routerHook = {});
// Error of an already merged block.
double reconstructionError(const ReconstructionCache& cache, int moeIndex, const MoeBlock& merged);

struct LayerReconstruction {
  int moeIndex = 0;
  double tied = 0;     // 0 for blocks the plan leaves unmerged
  double compact = 0;
};

// Every block of the model (unmerged ones score 0). Original blocks come from the cache when kept,
// else they are loaded from the model.
std::vector<LayerReconstruction> reconstructionErrors(const ReconstructionCache& cache, const Model& model,
                                                      const MergePlan& plan, const CompactRouterHook& routerHook = {});
// The same in one semantics only (each merged block merged and run once), indexed by MoE block.
std::vector<double> reconstructionErrors(const ReconstructionCache& cache, const Model& model, const MergePlan& plan,
                                         MergeSemantics semantics, const CompactRouterHook& routerHook = {});

}  // namespace moe
