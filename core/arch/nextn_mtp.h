#pragma once
// Multi-token-prediction (MTP) blocks in DeepSeek-V3's layout, which GLM-4.5 shares: config.json's
// num_nextn_predict_layers blocks stored after the decoder layers as `model.layers.<L + i>.` (L =
// num_hidden_layers). Each is a full decoder layer with a MoE block (the architecture's own tensors
// for layer L + i) plus
//   eh_proj.weight [H, 2H]          projection of [enorm(embedding); hnorm(previous hidden)]
//   enorm.weight, hnorm.weight [H]
//   shared_head.norm.weight [H]
//   shared_head.head.weight [V, H]  and embed_tokens.weight [V, H]: copies of the main head and
//                                   embedding that some uploads keep and others strip
// transformers' forward ignores them; MoEScope only validates and (un)exports them.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/arch/architecture.h"

namespace moe {

// Any tensor under a layer index >= num_hidden_layers belongs to the MTP blocks: one that the
// config does not describe (num_nextn_predict_layers too small, an expert beyond the count) is then
// reported by the loader instead of being copied silently into an export.
inline bool isNextnMtpTensor(const Architecture& arch, const std::string& name) {
  return arch.decoderLayerOf(name) >= arch.config().numLayers;
}

// Every tensor `blocks` MTP blocks may hold, with its shape; layerTensors(L + i) must describe a MoE
// decoder layer for those indices.
inline std::vector<TensorSpec> nextnMtpTensors(const Architecture& arch, int64_t blocks) {
  const ModelConfig& c = arch.config();
  const int64_t H = c.hiddenSize, V = c.vocabSize;
  std::vector<TensorSpec> specs;
  for (int64_t i = 0; i < blocks; ++i) {
    const int layer = static_cast<int>(c.numLayers + i);
    const std::vector<TensorSpec> decoder = arch.layerTensors(layer);
    specs.insert(specs.end(), decoder.begin(), decoder.end());
    const std::string p = arch.layerPrefix(layer);
    specs.push_back({p + "eh_proj.weight", {H, 2 * H}});
    specs.push_back({p + "enorm.weight", {H}});
    specs.push_back({p + "hnorm.weight", {H}});
    specs.push_back({p + "shared_head.norm.weight", {H}});
    specs.push_back({p + "shared_head.head.weight", {V, H}});
    specs.push_back({p + "embed_tokens.weight", {V, H}});
  }
  return specs;
}

// config.json of an export without the MTP blocks: transformers 4 spells the count
// num_nextn_predict_layers, transformers 5 maps num_mtp_layers onto it.
inline void dropNextnMtpFromConfig(nlohmann::json& cfg) {
  cfg["num_nextn_predict_layers"] = 0;
  if (cfg.contains("num_mtp_layers")) cfg["num_mtp_layers"] = 0;
}

}  // namespace moe
