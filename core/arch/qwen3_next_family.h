#pragma once
// What Qwen3-Next (qwen3_next.cpp) and Qwen3.5-MoE (qwen3_5_moe.cpp) share, as transformers 5 runs
// them:
//   * layer_types: "linear_attention" layers mix tokens with Gated DeltaNet (`linear_attn.`: input
//     projections, a causal depthwise conv1d of linear_conv_kernel_dim over q|k|v with SiLU, the
//     gated delta rule with beta = sigmoid(b) and log decay g = -exp(A_log) * softplus(a + dt_bias),
//     an RMSNorm gated by silu(z) per value head, out_proj); "full_attention" layers use gated
//     attention (`self_attn.`: q_proj yields per head the query and a gate, zero-centred q/k RMSNorm
//     per head, rotary on the first head_dim * partial_rotary_factor dims, output * sigmoid(gate),
//     o_proj). Without layer_types, every full_attention_interval-th layer (default 4) is full.
//   * every RMSNorm of the decoder is zero-centred: normalize(x) * (1 + weight).
//   * the MoE block `mlp.`: router `gate.weight` [E, H], softmax top-k (renormalised when the
//     subclass says so), SwiGLU experts of moe_intermediate_size (per expert, or fused
//     `experts.gate_up_proj` [E, 2I, H] (gate rows, then up rows) and `experts.down_proj` [E, H, I]),
//     plus `shared_expert.` (shared_expert_intermediate_size) scaled by sigmoid(`shared_expert_gate`(x)).
//   * multi-token prediction (MTP) tensors under `mtp.` (mtp_num_hidden_layers blocks, default 1):
//     fc [H, 2H], norm, pre_fc_norm_embedding, pre_fc_norm_hidden [H] and `mtp.layers.i.`, each a
//     full-attention decoder layer with a MoE block. transformers ignores them (^mtp.*).
// The subclass says how the linear-attention input projections are stored and which layers are MoE.
#include <string>
#include <vector>

#include "core/arch/architecture.h"

namespace moe {

class Qwen3NextFamily : public Architecture {
 public:
  // `normalizeTopk`: whether the k routing weights are renormalised; `fusedExperts`: the expert
  // tensors' layout on disk.
  Qwen3NextFamily(const ModelConfig& c, bool normalizeTopk, bool fusedExperts);

  ExpertLayout expertLayout() const override { return fused_ ? ExpertLayout::Fused : ExpertLayout::PerExpert; }
  bool hasSharedExpert() const override { return sharedWidth_ > 0; }
  bool isLinearAttentionLayer(int layer) const { return linear_.at(static_cast<size_t>(layer)); }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "mlp."; }

  std::vector<TensorSpec> layerTensors(int layer) const override;
  MoeDiskNames moeDiskNames(int layer) const override;

  bool isMtpTensor(const std::string& name) const override { return name.rfind("mtp.", 0) == 0; }
  std::vector<TensorSpec> mtpTensors() const override;
  void dropMtpFromConfig(nlohmann::json& cfg) const override;

  at::Tensor norm(const at::Tensor& x, const at::Tensor& weight) const override;
  void prepare(int64_t seqLen, const Runtime& rt) override;
  at::Tensor attention(int layer, const LayerWeights& w, const at::Tensor& x) const override;
  // Full-attention layers cache keys and values; linear-attention layers carry their convolution
  // inputs and delta-rule state (DecodeState::recurrent). Left padding is zeroed before the linear
  // attention (as transformers does), which leaves both states at zero until a row's first token.
  bool supportsKvCache() const override { return true; }
  MoeBlock moeBlock(int layer, const LayerWeights& w) const override;

 protected:
  // The linear-attention input projections of `x` [B, T, H] under prefix `p` ("...linear_attn."):
  // qkv [B, T, 2 * nk * dk + nv * dv] (all q, then all k, then all v, heads in order), z [B, T, nv, dv],
  // b and a [B, T, nv].
  struct LinearInputs {
    at::Tensor qkv, z, b, a;
  };
  virtual LinearInputs linearInputs(const LayerWeights& w, const std::string& p, const at::Tensor& x) const = 0;
  virtual void addLinearInputTensors(std::vector<TensorSpec>& specs, const std::string& p) const = 0;

  // Sizes of the linear attention (transformers' config defaults where a field is absent).
  int64_t numKeyHeads_ = 16, numValueHeads_ = 32, keyHeadDim_ = 128, valueHeadDim_ = 128, convKernel_ = 4;
  int64_t keyDim() const { return numKeyHeads_ * keyHeadDim_; }
  int64_t valueDim() const { return numValueHeads_ * valueHeadDim_; }

 private:
  // One decoder layer's tensors under `p` ("...layers.N." or "mtp.layers.i."), of the given kind.
  std::vector<TensorSpec> blockTensors(const std::string& p, bool linear, bool moe, int64_t slots) const;
  void addMoeTensors(std::vector<TensorSpec>& specs, const std::string& p, int64_t slots) const;
  at::Tensor linearAttention(int layer, const LayerWeights& w, const std::string& p, const at::Tensor& x) const;
  at::Tensor gatedAttention(int layer, const LayerWeights& w, const std::string& p, const at::Tensor& x) const;

  std::vector<bool> linear_;  // per decoder layer: Gated DeltaNet, else gated full attention
  bool normalizeTopk_ = true, fused_ = false, attentionBias_ = false;
  int64_t headDim_ = 256, rotaryDim_ = 64, sharedWidth_ = 0, mtpLayers_ = 1;
  RopeTable rope_;
};

// Synth defaults both share: the linear-attention sizes, layer_types (every 4th layer and the last
// one full attention, so even a 2-layer synth runs both kinds), partial rotary 0.25 and a shared
// expert (as wide as the routed ones unless a width is given).
void qwen3NextFamilySynthFields(nlohmann::json& fields, const SynthDims& d);

}  // namespace moe
