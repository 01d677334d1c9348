#pragma once
// Grouped-query attention with rotary embeddings as most MoE families use it (Mixtral, Qwen-MoE,
// OLMoE, GraniteMoE, gpt-oss): q/k/v/o projections under `<layer>.self_attn.`, with the optional
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
};

void addStandardAttention(std::vector<TensorSpec>& specs, const ModelConfig& cfg, int layer,
                          const StandardAttentionSpec& spec);

at::Tensor standardAttention(const LayerWeights& w, const ModelConfig& cfg, int layer, const at::Tensor& x,
                             const StandardAttentionSpec& spec, const RopeTable& rope, int64_t slidingWindow = 0);

}  // namespace moe
