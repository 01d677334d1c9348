// GLM-4.5 / GLM-4.6 / GLM-4.5-Air (Glm4MoeForCausalLM).
//   * attention: grouped-query q/k/v/o under `self_attn.`, q/k/v biases when attention_bias (o_proj
//     never has one), per-head q/k RMSNorm before rope when use_qk_norm, and rotary embedding on the
//     first head_dim * partial_rotary_factor dims of each head only (rotate_half within that part,
//     as transformers does; the rest passes through). partial_rotary_factor is read from
//     rope_parameters (transformers 5) or the top level (transformers 4), default 0.5.
//   * layers < first_k_dense_replace have a dense SwiGLU `mlp.{gate,up,down}_proj` of width
//     intermediate_size; the others DeepSeek-V3's MoE block under `mlp.`: router `gate.weight` [E, H]
//     with `gate.e_score_correction_bias` [E] (fp32 in the released checkpoints), per-expert
//     `experts.E.{gate,up,down}_proj` of width moe_intermediate_size, and a shared SwiGLU
//     `shared_experts.` of width moe_intermediate_size * n_shared_experts added without a gate.
//   * routing: sigmoid scores, group-limited top-k on the bias-corrected scores (n_group, topk_group),
//     weights from the uncorrected scores, renormalised when norm_topk_prob, times routed_scaling_factor.
//   * num_nextn_predict_layers MTP blocks after the decoder layers (core/arch/nextn_mtp.h).
#include <cmath>

#include "core/arch/architectures.h"
#include "core/arch/shared_experts.h"
#include "core/arch/nextn_mtp.h"
#include "core/arch/partial_rotary.h"
#include "core/arch/standard_attention.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/merge/merge.h"  // compactRouting: the group rule a compact export's config must match

namespace moe {
namespace {

class Glm4Moe : public StandardAttentionArchitecture {
 public:
  explicit Glm4Moe(const ModelConfig& c) : StandardAttentionArchitecture(c) {
    // Defaults are those of transformers' Glm4MoeConfig, for fields a config.json may omit.
    const std::string& src = c.source();
    firstDense_ = c.getInt("first_k_dense_replace", 1);
    nShared_ = c.getInt("n_shared_experts", 1);
    nGroup_ = c.getInt("n_group", 1);
    topkGroup_ = c.getInt("topk_group", 1);
    normTopk_ = c.getBool("norm_topk_prob", true);
    routedScaling_ = c.getNumber("routed_scaling_factor", 1.0);
    mtpBlocks_ = c.getInt("num_nextn_predict_layers", c.getInt("num_mtp_layers", 1));
    attn_.qkvBias = c.getBool("attention_bias", false);
    attn_.outputBias = false;
    if (c.getBool("use_qk_norm", false)) attn_.qkNorm = StandardAttentionSpec::QkNorm::PerHead;

    attn_.rotaryDim = partialRotaryDim(c, cfg_.headDim, 0.5);

    const int64_t E = numExperts();
    if (E <= 0) throw Error(ErrorKind::Config, src + ": n_routed_experts must be positive");
    // transformers ranks groups by the sum of their two best scores, so a group needs two experts.
    if (nGroup_ <= 0 || E % nGroup_ != 0 || E / nGroup_ < 2)
      throw Error(ErrorKind::Config, src + ": n_routed_experts (" + std::to_string(E) + ") must split into n_group (" +
                                         std::to_string(nGroup_) + ") groups of at least 2 experts");
    if (topkGroup_ <= 0 || topkGroup_ > nGroup_)
      throw Error(ErrorKind::Config, src + ": topk_group must lie in [1, n_group]");
    if (topK() > E / nGroup_ * topkGroup_)
      throw Error(ErrorKind::Config, src + ": num_experts_per_tok (" + std::to_string(topK()) +
                                         ") exceeds the experts of the topk_group selected groups (" +
                                         std::to_string(E / nGroup_ * topkGroup_) + ")");
    if (nShared_ < 0 || nShared_ > limits::kMaxWidth)
      throw Error(ErrorKind::Config, src + ": n_shared_experts must lie in [0, " + std::to_string(limits::kMaxWidth) + "]");
    if (mtpBlocks_ < 0 || mtpBlocks_ > limits::kMaxLayers)
      throw Error(ErrorKind::Config, src + ": num_nextn_predict_layers must lie in [0, " +
                                         std::to_string(limits::kMaxLayers) + "]");
  }

  std::string name() const override { return glm4MoeType().modelType; }
  bool isMoeLayer(int layer) const override { return layer >= firstDense_; }
  bool hasSharedExpert() const override { return nShared_ > 0; }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "mlp."; }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s = attentionTensors(layer);
    const std::string m = moePrefix(layer);
    if (!isMoeLayer(layer)) {
      addDenseMlp(s, m, cfg_.intermediateSize);
      return s;
    }
    const int64_t E = numExperts(), H = cfg_.hiddenSize, I = cfg_.moeIntermediateSize;
    s.push_back({m + "gate.weight", {E, H}});
    s.push_back({m + "gate.e_score_correction_bias", {E}});
    addPerExpert(s, m + "experts.", numSlots(layer), I, "gate_proj", "up_proj", "down_proj");
    if (nShared_ > 0) addDenseMlp(s, m + "shared_experts.", I * nShared_);
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override {
    const std::string m = moePrefix(layer);
    MoeDiskNames n = perExpertDiskNames(m + "gate.weight", m + "experts.", "gate_proj", "up_proj", "down_proj");
    n.correctionBias = m + "gate.e_score_correction_bias";
    return n;
  }

  bool isMtpTensor(const std::string& name) const override { return isNextnMtpTensor(*this, name); }
  std::vector<TensorSpec> mtpTensors() const override { return nextnMtpTensors(*this, mtpBlocks_); }
  void dropMtpFromConfig(nlohmann::json& cfg) const override { dropNextnMtpFromConfig(cfg); }

  // As DeepSeek-V3: n_group survives a compact export only where K still splits into groups that can
  // supply top-k (compactRouting, the rule the merged blocks use); the config must say the same.
  void rewriteCompactConfig(nlohmann::json& cfg, int64_t keptExperts) const override {
    if (keptExperts == numExperts()) return;
    const RoutingConfig out = compactRouting(routing(), keptExperts);
    cfg["n_group"] = out.nGroup;
    cfg["topk_group"] = out.topkGroup;
  }

  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    const std::string m = moePrefix(layer);
    MoeBlock b;
    b.routerWeight = w.get(m + "gate.weight");
    b.routerFloat32 = true;  // Glm4MoeTopkRouter: F.linear of both operands in float32
    b.correctionBias = w.getFloat32(m + "gate.e_score_correction_bias");  // kept in float32 (_keep_in_fp32_modules_strict)
    b.routing = routing();
    stackPerExpert(b, w, m + "experts.", numSlots(layer), "gate_proj", "up_proj", "down_proj");
    if (nShared_ > 0)
      b.shared = sharedExpertsMlp(w, m);
    return b;
  }

 private:
  RoutingConfig routing() const {
    RoutingConfig r;
    r.rule = RoutingRule::SigmoidGroupLimited;
    r.topK = topK();
    r.normalize = normTopk_;
    r.scalingFactor = routedScaling_;
    r.nGroup = nGroup_;
    r.topkGroup = topkGroup_;
    return r;
  }

  int64_t firstDense_ = 1, nShared_ = 1, nGroup_ = 1, topkGroup_ = 1, mtpBlocks_ = 0;
  bool normTopk_ = true;
  double routedScaling_ = 1.0;
};

// The released models' choices: one expert group, q/k/v biases, no q/k norm, half-rotary heads,
// a dense first layer, and no MTP block (synth writes none).
void synthConfig(nlohmann::json& c, const SynthDims& d) {
  const int64_t headDim = d.hidden / d.heads;
  if (headDim % 4 != 0)
    throw Error(ErrorKind::InvalidArgument, "synth: glm4_moe rotates half of each head in pairs, so hidden / heads (" +
                                                std::to_string(headDim) + ") must be a multiple of 4");
  if (d.experts < 2)
    throw Error(ErrorKind::InvalidArgument, "synth: glm4_moe needs at least 2 experts (its router ranks experts in pairs)");
  c["n_routed_experts"] = d.experts;
  c["moe_intermediate_size"] = d.expertIntermediate;
  c["intermediate_size"] = d.denseIntermediate;
  c["n_shared_experts"] = d.sharedIntermediate > 0 ? 1 : 0;
  c["first_k_dense_replace"] = d.layers > 1 ? 1 : 0;
  c["n_group"] = 1;
  c["topk_group"] = 1;
  c["norm_topk_prob"] = true;
  c["routed_scaling_factor"] = 2.5;
  c["attention_bias"] = true;
  c["use_qk_norm"] = false;
  c["partial_rotary_factor"] = 0.5;
  c["rope_parameters"]["partial_rotary_factor"] = 0.5;
  c["num_nextn_predict_layers"] = 0;
}

}  // namespace

const ArchitectureType& glm4MoeType() {
  static const ArchitectureType type{"glm4_moe", "Glm4MoeForCausalLM", &makeArchitectureOf<Glm4Moe>, &synthConfig};
  return type;
}

}  // namespace moe
