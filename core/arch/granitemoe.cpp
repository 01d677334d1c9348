// GraniteMoE (GraniteMoeForCausalLM): packed experts — `block_sparse_moe.input_linear.weight`
// [E, 2I, H] (first I rows gate, last I up) and `output_linear.weight` [E, H, I]; router
// `block_sparse_moe.router.layer`; top-k on the logits then softmax over the k (= renormalised
// softmax top-k). Scalar multipliers: embedding, attention (replaces head_dim^-0.5), residual
// branches, and logits divided by logits_scaling.
#include "core/arch/architectures.h"
#include "core/arch/standard_attention.h"

namespace moe {
namespace {

class GraniteMoe : public StandardAttentionArchitecture {
 public:
  explicit GraniteMoe(const ModelConfig& c) : StandardAttentionArchitecture(c) {
    attn_.qkvBias = c.getBool("attention_bias", false);
    attn_.outputBias = attn_.qkvBias;
    attn_.scaling = c.getNumber("attention_multiplier", 1.0);
    embeddingMultiplier_ = c.getNumber("embedding_multiplier", 1.0);
    residualMultiplier_ = c.getNumber("residual_multiplier", 1.0);
    logitsScaling_ = c.getNumber("logits_scaling", 1.0);
  }
  std::string name() const override { return graniteMoeType().modelType; }
  bool isMoeLayer(int) const override { return true; }
  ExpertLayout expertLayout() const override { return ExpertLayout::Packed; }
  double residualScale() const override { return residualMultiplier_; }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "block_sparse_moe."; }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s = attentionTensors(layer);
    const std::string p = moePrefix(layer);
    const int64_t E = numExperts(), H = cfg_.hiddenSize, I = cfg_.intermediateSize;
    s.push_back({p + "router.layer.weight", {E, H}});
    s.push_back({p + "input_linear.weight", {numSlots(layer), 2 * I, H}});
    s.push_back({p + "output_linear.weight", {numSlots(layer), H, I}});
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override {
    const std::string p = moePrefix(layer);
    MoeDiskNames n;
    n.kind = ExpertLayout::Packed;
    n.router = p + "router.layer.weight";
    n.inputLinear = p + "input_linear.weight";
    n.outputLinear = p + "output_linear.weight";
    return n;
  }

  at::Tensor embed(const at::Tensor& ids, const at::Tensor& table) const override {
    return Architecture::embed(ids, table) * embeddingMultiplier_;
  }


  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    const std::string p = moePrefix(layer);
    const int64_t I = cfg_.intermediateSize;
    // Top-k of the logits then softmax over the k equals the renormalised softmax top-k.
    MoeBlock b = softmaxRoutedBlock(w, p + "router.layer.weight", /*normalize=*/true);
    const at::Tensor& packed = w.get(p + "input_linear.weight");
    b.gate = packed.narrow(1, 0, I);
    b.up = packed.narrow(1, I, I);
    b.down = w.get(p + "output_linear.weight");
    return b;
  }

  at::Tensor logits(const at::Tensor& normedHidden, const at::Tensor& lmHead) const override {
    return Architecture::logits(normedHidden, lmHead) / logitsScaling_;
  }

 private:
  double embeddingMultiplier_ = 1.0, residualMultiplier_ = 1.0, logitsScaling_ = 1.0;
};

// The multipliers are those of ibm-granite's GraniteMoE checkpoints, so synth exercises every one.
void synthConfig(nlohmann::json& c, const SynthDims& d) {
  c["num_local_experts"] = d.experts;
  c["intermediate_size"] = d.expertIntermediate;
  c["embedding_multiplier"] = 12.0;
  c["attention_multiplier"] = 1.0 / static_cast<double>(d.hidden / d.heads);
  c["residual_multiplier"] = 0.22;
  c["logits_scaling"] = 8.0;
}

}  // namespace

const ArchitectureType& graniteMoeType() {
  static const ArchitectureType type{"granitemoe", "GraniteMoeForCausalLM", &makeArchitectureOf<GraniteMoe>,
                                     &synthConfig};
  return type;
}

}  // namespace moe
