#pragma once
// Grouped-query attention with rotary embeddings as most MoE families use it (Mixtral, Qwen-MoE,
// OLMoE, GraniteMoE, gpt-oss): q/k/v/o projections under `prefix` (`<layer>.self_attn.`), with the optional
// parts each family adds switched on by flags.
#include "core/arch/architecture.h"

namespace moe {

struct StandardAttentionSpec {
  bool qkvBias = false;
  bool outputBias = false;
  enum class QkNorm { None, PerHead, Full } qkNorm = QkNorm::None;  // Qwen3: per head; OLMoE: whole projection
  bool sinks = false;        // gpt-oss
  double scaling = 0.0;      // 0: head_dim^-0.5
  double clipQkv = 0.0;      // OLMoE's clip_qkv: clamp q, k, v to [-c, c] (0: off)
  // Partial rotary (GLM-4.5's partial_rotary_factor): rope on the first rotaryDim dims of each head
  // (rotate_half within them), the rest passes through; 0: the whole head.
  int64_t rotaryDim = 0;
  // Rotary pairs: adjacent dims (2i, 2i+1) as ERNIE-4.5 rotates them, instead of rotate_half's
  // (i, i + d/2). Only with the whole head rotated (rotaryDim 0).
  bool ropeInterleaved = false;
};

void addStandardAttention(std::vector<TensorSpec>& specs, const ModelConfig& cfg, const std::string& prefix,
                          const StandardAttentionSpec& spec);

// With a DecodeState, x holds the new tokens only: their keys/values join layer's cache and the
// rotary rows come from the state's positions.
at::Tensor standardAttention(const LayerWeights& w, const ModelConfig& cfg, const std::string& prefix, const at::Tensor& x,
                             const StandardAttentionSpec& spec, const RopeTable& rope, int64_t slidingWindow = 0,
                             DecodeState* decode = nullptr, int layer = 0);

// Base of the architectures built on standard attention: it owns the attention flags and the
// rotary table, and supplies prepare() and attention(); the subclass sets attn_ in its
// constructor and overrides slidingWindow() where some layers use one.
class StandardAttentionArchitecture : public Architecture {
 public:
  using Architecture::Architecture;
  void prepare(int64_t seqLen, const Runtime& rt) override;
  at::Tensor attention(int layer, const LayerWeights& w, const at::Tensor& x) const override;
  bool supportsKvCache() const override { return true; }

 protected:
  virtual int64_t slidingWindow(int /*layer*/) const { return 0; }
  // Norms and attention tensors of a layer: the start of every subclass's table.
  std::vector<TensorSpec> attentionTensors(int layer) const;
  // A softmax top-k router at `routerName` (+ optional bias), weights renormalised when asked.
  MoeBlock softmaxRoutedBlock(const LayerWeights& w, const std::string& routerName, bool normalize,
                              const std::string& routerBias = "") const;
  // The Qwen / OLMoE block under `prefix` ("...mlp."): router `gate.weight` [E, H], per-expert
  // `experts.E.gate_proj|up_proj|down_proj` of width `width`, softmax top-k renormalised when
  // norm_topk_prob. The tensor table's entries, and the block from loaded weights.
  void addProjExpertsMoe(std::vector<TensorSpec>& specs, const std::string& prefix, int layer, int64_t width) const;
  MoeBlock projExpertsMoeBlock(const LayerWeights& w, const std::string& prefix, int layer) const;
  static MoeDiskNames projExpertsDiskNames(const std::string& prefix) {
    return perExpertDiskNames(prefix + "gate.weight", prefix + "experts.", "gate_proj", "up_proj", "down_proj");
  }

  StandardAttentionSpec attn_;
  RopeTable rope_;
};

}  // namespace moe
