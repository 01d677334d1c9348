// Qwen2-MoE / Qwen1.5-MoE (Qwen2MoeForCausalLM): q/k/v biases; per-expert tensors
// `mlp.experts.E.gate_proj|up_proj|down_proj`; router `mlp.gate`; a shared expert
// `mlp.shared_expert.*` scaled by sigmoid(`mlp.shared_expert_gate`(x)); dense layers listed in
// mlp_only_layers; softmax top-k, renormalised only when norm_topk_prob.
#include "core/arch/architectures.h"
#include "core/arch/qwen_sparse_layers.h"
#include "core/arch/standard_attention.h"

namespace moe {
namespace {

class Qwen2Moe : public StandardAttentionArchitecture {
 public:
  explicit Qwen2Moe(const ModelConfig& c) : StandardAttentionArchitecture(c) {
    attn_.qkvBias = c.getBool("qkv_bias", true);
    sharedWidth_ = c.getInt("shared_expert_intermediate_size", 0);
  }
  std::string name() const override { return qwen2MoeType().modelType; }
  bool isMoeLayer(int layer) const override { return qwenIsSparseLayer(cfg_, layer); }
  bool hasSharedExpert() const override { return sharedWidth_ > 0; }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "mlp."; }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s = attentionTensors(layer);
    const std::string p = moePrefix(layer);
    if (!isMoeLayer(layer)) {
      addDenseMlp(s, p, cfg_.intermediateSize);
      return s;
    }
    addProjExpertsMoe(s, p, layer, cfg_.moeIntermediateSize);
    if (sharedWidth_ > 0) {
      addDenseMlp(s, p + "shared_expert.", sharedWidth_);
      s.push_back({p + "shared_expert_gate.weight", {1, cfg_.hiddenSize}});
    }
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override { return projExpertsDiskNames(moePrefix(layer)); }

  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    const std::string p = moePrefix(layer);
    MoeBlock b = projExpertsMoeBlock(w, p, layer);
    if (sharedWidth_ > 0) {
      SharedExpert sh;
      sh.gate = w.get(p + "shared_expert.gate_proj.weight");
      sh.up = w.get(p + "shared_expert.up_proj.weight");
      sh.down = w.get(p + "shared_expert.down_proj.weight");
      sh.sigmoidGate = w.get(p + "shared_expert_gate.weight");
      b.shared = sh;
    }
    return b;
  }

 private:
  int64_t slidingWindow(int layer) const override { return qwenSlidingWindow(cfg_, layer); }
  int64_t sharedWidth_ = 0;
};

void synthConfig(nlohmann::json& c, const SynthDims& d) {
  c["num_experts"] = d.experts;
  c["moe_intermediate_size"] = d.expertIntermediate;
  c["intermediate_size"] = d.denseIntermediate;
  c["shared_expert_intermediate_size"] = d.sharedIntermediate;
  c["qkv_bias"] = true;
  c["norm_topk_prob"] = false;
  c["decoder_sparse_step"] = 1;
  c["mlp_only_layers"] = nlohmann::json::array();
}

}  // namespace

const ArchitectureType& qwen2MoeType() {
  static const ArchitectureType type{"qwen2_moe", "Qwen2MoeForCausalLM", &makeArchitectureOf<Qwen2Moe>,
                                     &synthConfig};
  return type;
}

}  // namespace moe
