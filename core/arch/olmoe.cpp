// OLMoE (OlmoeForCausalLM): RMSNorm over the whole q and k projections (not per head), optional
// clip_qkv; every layer MoE; per-expert tensors `mlp.experts.E.gate_proj|up_proj|down_proj`,
// router `mlp.gate`; softmax top-k, renormalised only when norm_topk_prob.
#include "core/arch/architectures.h"
#include "core/arch/standard_attention.h"

namespace moe {
namespace {

class Olmoe : public StandardAttentionArchitecture {
 public:
  explicit Olmoe(const ModelConfig& c) : StandardAttentionArchitecture(c) {
    attn_.qkvBias = c.getBool("attention_bias", false);
    attn_.outputBias = attn_.qkvBias;
    attn_.qkNorm = StandardAttentionSpec::QkNorm::Full;
    attn_.clipQkv = c.getNumber("clip_qkv", 0.0);
  }
  std::string name() const override { return olmoeType().modelType; }
  bool isMoeLayer(int) const override { return true; }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "mlp."; }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s = attentionTensors(layer);
    const std::string p = moePrefix(layer);
    addProjExpertsMoe(s, p, layer, cfg_.intermediateSize);
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override { return projExpertsDiskNames(moePrefix(layer)); }

  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    return projExpertsMoeBlock(w, moePrefix(layer), layer);
  }
};

void synthConfig(nlohmann::json& c, const SynthDims& d) {
  c["num_experts"] = d.experts;
  c["intermediate_size"] = d.expertIntermediate;
  c["norm_topk_prob"] = false;
}

}  // namespace

const ArchitectureType& olmoeType() {
  static const ArchitectureType type{"olmoe", "OlmoeForCausalLM", &makeArchitectureOf<Olmoe>, &synthConfig};
  return type;
}

}  // namespace moe
