// ERNIE-4.5 MoE (Ernie4_5_MoeForCausalLM), text-only models such as ERNIE-4.5-21B-A3B-PT.
//   * attention: grouped-query q/k/v/o, no q/k norm; rotary embedding over the whole head with
//     adjacent pairs (2i, 2i+1) rotated together (not rotate_half's halves).
//   * layer l is a MoE block when (l + 1) % moe_layer_interval == 0 and moe_layer_start_index <= l
//     <= moe_layer_end_index (-1: the last layer); the others have a dense SwiGLU `mlp.` of width
//     intermediate_size. A MoE block under `mlp.`: router `gate.weight` [E, H] (computed in fp32 by
//     transformers), `moe_statics.e_score_correction_bias` [1, E] (one row), per-expert
//     `experts.E.gate_proj|up_proj|down_proj` of width moe_intermediate_size, and, when
//     moe_num_shared_experts > 0, a shared SwiGLU `shared_experts.` of width moe_intermediate_size x
//     moe_num_shared_experts added without a gate.
//   * routing: softmax over all experts; the k experts with the largest probability + correction
//     bias, weighted by their probabilities divided by max(sum, moe_norm_min).
//   * config spellings: moe_num_experts and moe_k (top-k); tie_word_embeddings defaults to true and
//     rms_norm_eps to 1e-5 when config.json omits them (transformers' Ernie4_5_MoeConfig defaults).
//   * use_bias adds biases to every projection and to lm_head; the released models have none, and
//     MoEScope refuses use_bias true rather than run a model whose output head it cannot apply.
//   * the multi-token-prediction tensors some uploads carry (`model.mtp_*`, ignored by transformers)
//     are not validated and are copied unchanged by an export.
#include <algorithm>

#include "core/arch/architectures.h"
#include "core/arch/shared_experts.h"
#include "core/arch/standard_attention.h"
#include "core/error.h"
#include "core/limits.h"

namespace moe {
namespace {

class Ernie45Moe : public StandardAttentionArchitecture {
 public:
  explicit Ernie45Moe(const ModelConfig& c) : StandardAttentionArchitecture(c) {
    const std::string& src = c.source();
    cfg_.tieWordEmbeddings = c.getBool("tie_word_embeddings", true);
    cfg_.rmsNormEps = c.getNumber("rms_norm_eps", 1e-5);
    if (!c.has("num_experts_per_tok")) cfg_.topKKey = "moe_k";  // errors name ERNIE's own field
    if (c.getBool("use_bias", false))
      throw Error(ErrorKind::Unsupported, src + ": ernie4_5_moe with use_bias true (biases on every projection and "
                                                "on lm_head) is not supported");
    attn_.ropeInterleaved = true;
    nShared_ = c.getInt("moe_num_shared_experts", 2);
    start_ = c.getInt("moe_layer_start_index", 1);
    end_ = c.getInt("moe_layer_end_index", -1);
    if (end_ == -1) end_ = cfg_.numLayers - 1;
    interval_ = c.getInt("moe_layer_interval", 1);
    normMin_ = c.getNumber("moe_norm_min", 1e-12);
    if (interval_ <= 0) throw Error(ErrorKind::Config, src + ": moe_layer_interval must be positive");
    if (nShared_ < 0 || nShared_ > limits::kMaxWidth)
      throw Error(ErrorKind::Config, src + ": moe_num_shared_experts must lie in [0, " +
                                         std::to_string(limits::kMaxWidth) + "]");
    if (!(normMin_ >= 0.0)) throw Error(ErrorKind::Config, src + ": moe_norm_min must not be negative");
  }

  std::string name() const override { return ernie45MoeType().modelType; }
  bool isMoeLayer(int layer) const override {
    return (layer + 1) % interval_ == 0 && layer >= start_ && layer <= end_;
  }
  bool hasSharedExpert() const override { return nShared_ > 0; }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "mlp."; }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s = attentionTensors(layer);
    const std::string m = moePrefix(layer);
    if (!isMoeLayer(layer)) {
      addDenseMlp(s, m, cfg_.intermediateSize);
      return s;
    }
    const int64_t E = numExperts(), I = cfg_.moeIntermediateSize;
    s.push_back({m + "gate.weight", {E, cfg_.hiddenSize}});
    s.push_back({m + "moe_statics.e_score_correction_bias", {1, E}});
    addPerExpert(s, m + "experts.", numSlots(layer), I, "gate_proj", "up_proj", "down_proj");
    if (nShared_ > 0) addDenseMlp(s, m + "shared_experts.", I * nShared_);
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override {
    const std::string m = moePrefix(layer);
    MoeDiskNames n = projExpertsDiskNames(m);
    n.correctionBias = m + "moe_statics.e_score_correction_bias";
    n.correctionBiasRow = true;
    return n;
  }

  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    const std::string m = moePrefix(layer);
    MoeBlock b;
    // Ernie4_5_MoeTopKRouter: the gate's product with autocast off, in float32; the gate and the
    // statistics' bias are kept in float32 (_keep_in_fp32_modules_strict).
    b.routerWeight = w.getFloat32(m + "gate.weight");
    b.routerFloat32 = true;
    b.correctionBias = w.getFloat32(m + "moe_statics.e_score_correction_bias").reshape({-1});
    b.routing.rule = RoutingRule::SoftmaxTopK;
    b.routing.topK = topK();
    b.routing.normalize = true;
    b.routing.normMin = normMin_;
    stackPerExpert(b, w, m + "experts.", numSlots(layer), "gate_proj", "up_proj", "down_proj");
    if (nShared_ > 0)
      b.shared = sharedExpertsMlp(w, m);
    return b;
  }

 private:
  int64_t nShared_ = 0, start_ = 1, end_ = -1, interval_ = 1;
  double normMin_ = 1e-12;
};

// A dense first layer where there is more than one, one shared expert when asked for, no biases.
// ERNIE spells the expert count and the top-k in its own fields.
void synthConfig(nlohmann::json& c, const SynthDims& d) {
  c["moe_k"] = c["num_experts_per_tok"];
  c.erase("num_experts_per_tok");
  c["moe_num_experts"] = d.experts;
  c["moe_intermediate_size"] = d.expertIntermediate;
  c["intermediate_size"] = d.denseIntermediate;
  const int64_t shared = d.sharedIntermediate > 0 ? std::max<int64_t>(1, d.sharedIntermediate / d.expertIntermediate) : 0;
  c["moe_num_shared_experts"] = shared;
  c["moe_layer_start_index"] = d.layers > 1 ? 1 : 0;
  c["moe_layer_end_index"] = d.layers - 1;
  c["moe_layer_interval"] = 1;
  c["moe_norm_min"] = 1e-12;
  c["use_bias"] = false;
}

}  // namespace

const ArchitectureType& ernie45MoeType() {
  static const ArchitectureType type{"ernie4_5_moe", "Ernie4_5_MoeForCausalLM", &makeArchitectureOf<Ernie45Moe>,
                                     &synthConfig};
  return type;
}

}  // namespace moe
