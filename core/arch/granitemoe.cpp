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
  std::string name() const override { return "granitemoe"; }
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

}  // namespace

std::unique_ptr<Architecture> makeGraniteMoe(const ModelConfig& c) { return std::make_unique<GraniteMoe>(c); }

}  // namespace moe
