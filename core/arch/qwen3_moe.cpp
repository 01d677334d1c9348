// Qwen3-MoE (Qwen3MoeForCausalLM): per-head RMSNorm on q and k before rope; per-expert tensors
// `mlp.experts.E.gate_proj|up_proj|down_proj`; router `mlp.gate`; no shared expert; dense layers
// listed in mlp_only_layers; softmax top-k, renormalised when norm_topk_prob.
#include "core/arch/architectures.h"
#include "core/arch/qwen_sparse_layers.h"
#include "core/arch/standard_attention.h"

namespace moe {
namespace {

class Qwen3Moe : public StandardAttentionArchitecture {
 public:
  explicit Qwen3Moe(const ModelConfig& c) : StandardAttentionArchitecture(c) {
    attn_.qkvBias = c.getBool("attention_bias", false);
    attn_.outputBias = attn_.qkvBias;
    attn_.qkNorm = StandardAttentionSpec::QkNorm::PerHead;
  }
  std::string name() const override { return qwen3MoeType().modelType; }
  bool isMoeLayer(int layer) const override { return qwenIsSparseLayer(cfg_, layer); }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "mlp."; }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s = attentionTensors(layer);
    const std::string p = moePrefix(layer);
    if (!isMoeLayer(layer)) {
      addDenseMlp(s, p, cfg_.intermediateSize);
      return s;
    }
    addProjExpertsMoe(s, p, layer, cfg_.moeIntermediateSize);
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override { return projExpertsDiskNames(moePrefix(layer)); }

  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    return projExpertsMoeBlock(w, moePrefix(layer), layer);
  }

 private:
  int64_t slidingWindow(int layer) const override { return qwenSlidingWindow(cfg_, layer); }
};

void synthConfig(nlohmann::json& c, const SynthDims& d) {
  c["num_experts"] = d.experts;
  c["moe_intermediate_size"] = d.expertIntermediate;
  c["intermediate_size"] = d.denseIntermediate;
  c["norm_topk_prob"] = true;
  c["decoder_sparse_step"] = 1;
  c["mlp_only_layers"] = nlohmann::json::array();
}

}  // namespace

const ArchitectureType& qwen3MoeType() {
  static const ArchitectureType type{"qwen3_moe", "Qwen3MoeForCausalLM", &makeArchitectureOf<Qwen3Moe>,
                                     &synthConfig};
  return type;
}

}  // namespace moe
