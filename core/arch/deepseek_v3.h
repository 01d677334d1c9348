#pragma once
// DeepSeek-V3 (DeepseekV3ForCausalLM), shared with the architectures that extend it (DeepSeek-V3.2's
// sparse attention, Kimi-K2's config name). See deepseek_v3.cpp for the layout.
#include <string>
#include <vector>

#include "core/arch/architecture.h"

namespace moe {

class DeepseekV3 : public Architecture {
 public:
  explicit DeepseekV3(const ModelConfig& c);

  std::string name() const override;
  bool isMoeLayer(int layer) const override { return layer >= firstDense_; }
  bool hasSharedExpert() const override { return nShared_ > 0; }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "mlp."; }

  std::vector<TensorSpec> layerTensors(int layer) const override;
  MoeDiskNames moeDiskNames(int layer) const override;

  // num_nextn_predict_layers MTP blocks as model.layers.<L + i>. (core/arch/nextn_mtp.h).
  bool isMtpTensor(const std::string& name) const override;
  std::vector<TensorSpec> mtpTensors() const override;
  void dropMtpFromConfig(nlohmann::json& cfg) const override;

  void rewriteCompactConfig(nlohmann::json& cfg, int64_t keptExperts) const override;
  void prepare(int64_t T, const Runtime& rt) override;
  at::Tensor attention(int layer, const LayerWeights& w, const at::Tensor& x) const override;
  bool supportsKvCache() const override { return true; }
  MoeBlock moeBlock(int layer, const LayerWeights& w) const override;

 protected:
  // Hooks of the attention extensions (DeepSeek-V3.2's indexer): tensors under `self_attn.` beyond
  // MLA's, and per query the keys attention may use besides the causal rule ([B, T, Tk] bool, true =
  // allowed; undefined: all causal keys). Tk is T, or past + T with a KV cache (decode_), where the
  // hook keeps what it needs of earlier tokens itself (DecodeState::appendSide); padding keys are
  // excluded by the caller. qResid is q_a_layernorm(q_a_proj(x)), undefined without query compression.
  virtual void addAttentionExtras(std::vector<TensorSpec>& /*s*/, int /*layer*/) const {}
  virtual at::Tensor attentionKeyMask(int /*layer*/, const LayerWeights& /*w*/, const at::Tensor& /*x*/,
                                      const at::Tensor& /*qResid*/) const {
    return at::Tensor();
  }

  int64_t firstDense_ = 0, nShared_ = 0, nGroup_ = 1, topkGroup_ = 1, mtpBlocks_ = 0;
  bool normTopk_ = true;
  double routedScaling_ = 1.0;
  int64_t qLoraRank_ = 0, kvLoraRank_ = 0, nopeDim_ = 0, ropeDim_ = 0, vDim_ = 0, qkDim_ = 0;
  bool interleave_ = true, attnBias_ = false;
  double scaling_ = 1.0;
  RopeTable rope_;

 private:
  void addAttention(std::vector<TensorSpec>& s, int layer) const;
};

// DeepSeek-V3's synth config fields (deepseek_v3.cpp), for the types that share its config.json.
void deepseekV3SynthConfig(nlohmann::json& c, const SynthDims& d);

}  // namespace moe
