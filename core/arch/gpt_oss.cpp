// gpt-oss (GptOssForCausalLM): fused experts — `mlp.experts.gate_up_proj` [E, H, 2I] (+ bias [E, 2I];
// gate = even columns, up = odd columns) and `mlp.experts.down_proj` [E, I, H] (+ bias [E, H]),
// stored for x @ W, so they are transposed into nn.Linear orientation here; clamped SwiGLU;
// router `mlp.router` with bias, top-k logits then softmax over the k; attention with q/k/v/o
// biases, per-head sink logits, sliding-window layers (layer_types) and YaRN rope.
#include "core/arch/architectures.h"
#include "core/arch/standard_attention.h"
#include "core/error.h"

namespace moe {
namespace {

class GptOss : public StandardAttentionArchitecture {
 public:
  explicit GptOss(const ModelConfig& c) : StandardAttentionArchitecture(c) {
    attn_.qkvBias = c.getBool("attention_bias", true);
    attn_.outputBias = attn_.qkvBias;
    attn_.sinks = true;
    layerTypes_ = c.getStringList("layer_types");
    window_ = c.getInt("sliding_window", 0);
    if (!layerTypes_.empty() && static_cast<int64_t>(layerTypes_.size()) != c.numLayers)
      throw Error(ErrorKind::Config, c.source() + ": layer_types has " + std::to_string(layerTypes_.size()) +
                                         " entries for " + std::to_string(c.numLayers) + " layers");
  }
  std::string name() const override { return gptOssType().modelType; }
  bool isMoeLayer(int) const override { return true; }
  ExpertLayout expertLayout() const override { return ExpertLayout::Fused; }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "mlp."; }

  // GptOssRMSNorm: the weight multiplies the float32 normalised states (a bf16 weight times a
  // float32 tensor is a float32 product) and only the product is rounded to the compute dtype;
  // Llama's norm rounds the states first, then multiplies in that dtype. In an fp32 run both are
  // the same product. (transformers keeps these weights in float32 only for fp16 models:
  // _keep_in_fp32_modules, not _strict.)
  at::Tensor norm(const at::Tensor& x, const at::Tensor& weight) const override {
    return (weight.to(at::kFloat) * rmsNormalized(x, cfg_.rmsNormEps)).to(x.scalar_type());
  }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s = attentionTensors(layer);
    const std::string p = moePrefix(layer);
    const int64_t E = numExperts(), S = numSlots(layer), H = cfg_.hiddenSize, I = cfg_.intermediateSize;
    s.push_back({p + "router.weight", {E, H}});
    s.push_back({p + "router.bias", {E}});
    s.push_back({p + "experts.gate_up_proj", {S, H, 2 * I}});
    s.push_back({p + "experts.gate_up_proj_bias", {S, 2 * I}});
    s.push_back({p + "experts.down_proj", {S, I, H}});
    s.push_back({p + "experts.down_proj_bias", {S, H}});
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override {
    const std::string p = moePrefix(layer);
    MoeDiskNames n = fusedDiskNames(p + "router.weight", p + "experts.gate_up_proj", p + "experts.down_proj",
                                    /*interleaved=*/true, /*inputMajor=*/true, p + "experts.gate_up_proj_bias",
                                    p + "experts.down_proj_bias");
    n.routerBias = p + "router.bias";
    return n;
  }

  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    const std::string p = moePrefix(layer);
    MoeBlock b = softmaxRoutedBlock(w, p + "router.weight", /*normalize=*/true, p + "router.bias");
    unpackFused(b, w, moeDiskNames(layer));
    b.activation = ExpertActivation::GptOssClampedGLU;
    b.gluAlpha = 1.702;
    b.gluLimit = cfg_.getNumber("swiglu_limit", 7.0);
    return b;
  }

 private:
  int64_t slidingWindow(int layer) const override {
    const bool sliding = !layerTypes_.empty() && layerTypes_[static_cast<size_t>(layer)] == "sliding_attention";
    return sliding ? window_ : 0;
  }
  std::vector<std::string> layerTypes_;
  int64_t window_ = 0;
};

// Alternating sliding / full attention and YaRN rope, as in openai/gpt-oss-20b.
void synthConfig(nlohmann::json& c, const SynthDims& d) {
  c["num_local_experts"] = d.experts;
  c["intermediate_size"] = d.expertIntermediate;
  c["attention_bias"] = true;
  c["sliding_window"] = 128;
  nlohmann::json types = nlohmann::json::array();
  for (int64_t l = 0; l < d.layers; ++l) types.push_back(l % 2 == 0 ? "sliding_attention" : "full_attention");
  c["layer_types"] = types;
  c["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 150000.0}, {"factor", 32.0},
                          {"beta_fast", 32.0},   {"beta_slow", 1.0},       {"original_max_position_embeddings", 4096},
                          {"truncate", false}};
}

}  // namespace

const ArchitectureType& gptOssType() {
  static const ArchitectureType type{"gpt_oss", "GptOssForCausalLM", &makeArchitectureOf<GptOss>, &synthConfig};
  return type;
}

}  // namespace moe
