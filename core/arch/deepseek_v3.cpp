// DeepSeek-V3 (DeepseekV3ForCausalLM).
//   * layers < first_k_dense_replace have a dense SwiGLU `mlp.{gate,up,down}_proj` of width
//     intermediate_size; the others are MoE blocks under `mlp.`: router `gate.weight` [E, H] with
//     `gate.e_score_correction_bias` [E], per-expert `experts.E.{gate,up,down}_proj` of width
//     moe_intermediate_size, and a shared SwiGLU `shared_experts.` of width
//     moe_intermediate_size * n_shared_experts added to the routed output (no gate).
//   * routing: sigmoid scores, group-limited selection on the bias-corrected scores, weights from
//     the uncorrected scores, optionally renormalised, times routed_scaling_factor.
//   * Multi-head latent attention: q through a low-rank bottleneck (q_a_proj -> RMSNorm -> q_b_proj,
//     or a plain q_proj when q_lora_rank is null), keys/values from a compressed latent
//     (kv_a_proj_with_mqa -> [latent | shared rope key], latent -> RMSNorm -> kv_b_proj -> per head
//     [nope key | value]); rotary embedding only on the rope parts, one rope key shared by all heads.
//   * num_nextn_predict_layers multi-token-prediction (MTP) blocks after the decoder layers, as
//     model.layers.<num_hidden_layers + i>. (core/arch/nextn_mtp.h); transformers ignores them.
#include "core/arch/deepseek_v3.h"


#include <algorithm>
#include <cmath>

#include "core/arch/architectures.h"
#include "core/arch/shared_experts.h"
#include "core/arch/nextn_mtp.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/merge/merge.h"  // compactRouting: the group rule a compact export's config must match

namespace moe {

DeepseekV3::DeepseekV3(const ModelConfig& c) : Architecture(c) {
  // Defaults are those of transformers' DeepseekV3Config, for fields a config.json may omit.
  // A field present but null is None in transformers (no shared expert, no query compression).
  auto explicitNull = [&](const char* key) { return c.raw().contains(key) && c.raw()[key].is_null(); };
  firstDense_ = c.getInt("first_k_dense_replace", 3);
  nShared_ = explicitNull("n_shared_experts") ? 0 : c.getInt("n_shared_experts", 1);
  nGroup_ = c.getInt("n_group", 8);
  topkGroup_ = c.getInt("topk_group", 4);
  normTopk_ = c.getBool("norm_topk_prob", true);
  routedScaling_ = c.getNumber("routed_scaling_factor", 2.5);
  qLoraRank_ = explicitNull("q_lora_rank") ? 0 : c.getInt("q_lora_rank", 1536);  // 0: plain q_proj
  kvLoraRank_ = c.getInt("kv_lora_rank", 512);
  nopeDim_ = c.getInt("qk_nope_head_dim", 128);
  ropeDim_ = c.getInt("qk_rope_head_dim", 64);
  vDim_ = c.getInt("v_head_dim", 128);
  qkDim_ = nopeDim_ + ropeDim_;
  interleave_ = c.getBool("rope_interleave", true);
  attnBias_ = c.getBool("attention_bias", false);
  // transformers 5 maps num_mtp_layers onto num_nextn_predict_layers; its default is 1.
  mtpBlocks_ = c.getInt("num_nextn_predict_layers", c.getInt("num_mtp_layers", 1));

  const std::string& src = c.source();
  if (numExperts() <= 0) throw Error(ErrorKind::Config, src + ": n_routed_experts must be positive");
  // num_experts_per_tok is checked for every architecture by validateRouting (makeArchitecture).
  if (nGroup_ <= 0 || numExperts() % nGroup_ != 0 || numExperts() / nGroup_ < 2)
    throw Error(ErrorKind::Config, src + ": n_routed_experts (" + std::to_string(numExperts()) +
                                       ") must split into n_group (" + std::to_string(nGroup_) +
                                       ") groups of at least 2 experts");
  if (topkGroup_ <= 0 || topkGroup_ > nGroup_)
    throw Error(ErrorKind::Config, src + ": topk_group must lie in [1, n_group]");
  if (ropeDim_ <= 0 || ropeDim_ % 2 != 0)
    throw Error(ErrorKind::Config, src + ": qk_rope_head_dim must be a positive even number");
  if (nopeDim_ < 0 || vDim_ <= 0 || kvLoraRank_ <= 0 || qLoraRank_ < 0)
    throw Error(ErrorKind::Config, src + ": invalid MLA dimensions (kv_lora_rank, qk_nope_head_dim, v_head_dim)");
  for (int64_t dim : {nopeDim_, ropeDim_, vDim_, kvLoraRank_, qLoraRank_, nShared_})
    if (dim > limits::kMaxWidth)
      throw Error(ErrorKind::Config, src + ": an MLA dimension or n_shared_experts is " + std::to_string(dim) +
                                         ", more than the limit of " + std::to_string(limits::kMaxWidth));
  if (cfg_.numKvHeads != cfg_.numHeads)
    throw Error(ErrorKind::Unsupported, src + ": " + c.modelType + " with num_key_value_heads != num_attention_heads");
  if (mtpBlocks_ < 0 || mtpBlocks_ > limits::kMaxLayers)
    throw Error(ErrorKind::Config, src + ": num_nextn_predict_layers must lie in [0, " +
                                       std::to_string(limits::kMaxLayers) + "]");

  // Softmax scale: qk_head_dim^-0.5, times mscale^2 for scaled rope types with mscale_all_dim
  // (transformers reads the stored `factor`, not the context-length ratio, here).
  scaling_ = 1.0 / std::sqrt(static_cast<double>(qkDim_));
  if (cfg_.rope.type != "default") {
    const double mscaleAll = cfg_.rope.getNumber("mscale_all_dim", 0.0);
    if (mscaleAll != 0.0) {
      if (!cfg_.rope.params.contains("factor") || !cfg_.rope.params["factor"].is_number())
        throw Error(ErrorKind::Config, src + ": rope parameters with mscale_all_dim need a numeric 'factor'");
      const double factor = cfg_.rope.getNumber("factor", 1.0);
      const double m = factor <= 1.0 ? 1.0 : 0.1 * mscaleAll * std::log(factor) + 1.0;
      scaling_ *= m * m;
    }
  }
}

std::string DeepseekV3::name() const { return deepseekV3Type().modelType; }

std::vector<TensorSpec> DeepseekV3::layerTensors(int layer) const {
  std::vector<TensorSpec> s;
  addNorms(s, layer);
  addAttention(s, layer);
  addAttentionExtras(s, layer);
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

MoeDiskNames DeepseekV3::moeDiskNames(int layer) const {
  const std::string m = moePrefix(layer);
  MoeDiskNames n = perExpertDiskNames(m + "gate.weight", m + "experts.", "gate_proj", "up_proj", "down_proj");
  n.correctionBias = m + "gate.e_score_correction_bias";
  return n;
}

bool DeepseekV3::isMtpTensor(const std::string& name) const { return isNextnMtpTensor(*this, name); }
std::vector<TensorSpec> DeepseekV3::mtpTensors() const { return nextnMtpTensors(*this, mtpBlocks_); }
void DeepseekV3::dropMtpFromConfig(nlohmann::json& cfg) const { dropNextnMtpFromConfig(cfg); }

// Group-limited routing with K experts keeps n_group only where K still splits into groups that
// can supply top-k (compactRouting, the rule the merged blocks use); the config must say the same.
void DeepseekV3::rewriteCompactConfig(nlohmann::json& cfg, int64_t keptExperts) const {
  if (keptExperts == numExperts()) return;
  RoutingConfig r;
  r.rule = RoutingRule::SigmoidGroupLimited;
  r.topK = topK();
  r.nGroup = nGroup_;
  r.topkGroup = topkGroup_;
  const RoutingConfig out = compactRouting(r, keptExperts);
  cfg["n_group"] = out.nGroup;
  cfg["topk_group"] = out.topkGroup;
}

void DeepseekV3::prepare(int64_t T, const Runtime& rt) {
  // transformers sets DeepseekV3Config.head_dim = qk_rope_head_dim: the rope tables cover the rope part only.
  rope_ = makeRopeTable(cfg_.rope, ropeDim_, cfg_.getInt("max_position_embeddings", T), T, rt);
}

at::Tensor DeepseekV3::attention(int layer, const LayerWeights& w, const at::Tensor& x) const {
  const std::string p = layerPrefix(layer) + "self_attn.";
  const int64_t B = x.size(0), T = x.size(1), Hh = cfg_.numHeads;
  const double eps = 1e-6;  // the MLA RMSNorms use DeepseekV3RMSNorm's default eps, not rms_norm_eps

  at::Tensor q, qResid;
  if (qLoraRank_ > 0) {
    qResid = dense(x, w.get(p + "q_a_proj.weight"), w.getOr(p + "q_a_proj.bias"));
    qResid = rmsNorm(qResid, w.get(p + "q_a_layernorm.weight"), eps);
    q = dense(qResid, w.get(p + "q_b_proj.weight"));
  } else {
    q = dense(x, w.get(p + "q_proj.weight"));
  }
  q = q.view({B, T, Hh, qkDim_}).transpose(1, 2);  // [B, h, T, qk]
  at::Tensor qPass = q.narrow(-1, 0, nopeDim_);
  at::Tensor qRot = q.narrow(-1, nopeDim_, ropeDim_);

  at::Tensor kv = dense(x, w.get(p + "kv_a_proj_with_mqa.weight"), w.getOr(p + "kv_a_proj_with_mqa.bias"));
  at::Tensor latent = kv.narrow(-1, 0, kvLoraRank_);
  at::Tensor kRot = kv.narrow(-1, kvLoraRank_, ropeDim_).reshape({B, 1, T, ropeDim_});
  at::Tensor kvUp = dense(rmsNorm(latent, w.get(p + "kv_a_layernorm.weight"), eps), w.get(p + "kv_b_proj.weight"));
  kvUp = kvUp.view({B, T, Hh, nopeDim_ + vDim_}).transpose(1, 2);  // [B, h, T, nope + v]
  at::Tensor kPass = kvUp.narrow(-1, 0, nopeDim_);
  at::Tensor v = kvUp.narrow(-1, nopeDim_, vDim_);

  const RopeTable rope = decode_ ? ropeRows(rope_, decode_->positions) : rope_;
  if (interleave_) {
    qRot = applyRopeInterleaved(qRot, rope);
    kRot = applyRopeInterleaved(kRot, rope);
  } else {
    qRot = applyRope(qRot, rope);
    kRot = applyRope(kRot, rope);
  }
  kRot = kRot.expand({B, Hh, T, ropeDim_});

  at::Tensor queries = at::cat({qPass, qRot}, -1);
  at::Tensor keys = at::cat({kPass, kRot}, -1);
  AttentionOptions opts;
  opts.scaling = scaling_;
  if (decode_) decode_->attend(layer, keys, v, opts);
  if (const at::Tensor chosen = attentionKeyMask(layer, w, x, qResid); chosen.defined())
    opts.keyMask = opts.keyMask.defined() ? opts.keyMask & chosen : chosen;
  at::Tensor out = moe::attention(queries, keys, v.contiguous(), opts);  // [B, T, h * v]
  return dense(out, w.get(p + "o_proj.weight"), w.getOr(p + "o_proj.bias"));
}

MoeBlock DeepseekV3::moeBlock(int layer, const LayerWeights& w) const {
  const std::string m = moePrefix(layer);
  MoeBlock b;
  b.routerWeight = w.get(m + "gate.weight");
  b.routerFloat32 = true;  // DeepseekV3TopkRouter: F.linear of both operands in float32
  b.correctionBias = w.getFloat32(m + "gate.e_score_correction_bias");  // kept in float32 (_keep_in_fp32_modules_strict)
  b.routing.rule = RoutingRule::SigmoidGroupLimited;
  b.routing.topK = topK();
  b.routing.normalize = normTopk_;
  b.routing.scalingFactor = routedScaling_;
  b.routing.nGroup = nGroup_;
  b.routing.topkGroup = topkGroup_;
  stackPerExpert(b, w, m + "experts.", numSlots(layer), "gate_proj", "up_proj", "down_proj");
  if (nShared_ > 0)
    b.shared = sharedExpertsMlp(w, m);
  return b;
}

void DeepseekV3::addAttention(std::vector<TensorSpec>& s, int layer) const {
  const std::string p = layerPrefix(layer) + "self_attn.";
  const int64_t H = cfg_.hiddenSize, Hh = cfg_.numHeads;
  if (qLoraRank_ > 0) {
    s.push_back({p + "q_a_proj.weight", {qLoraRank_, H}});
    if (attnBias_) s.push_back({p + "q_a_proj.bias", {qLoraRank_}});
    s.push_back({p + "q_a_layernorm.weight", {qLoraRank_}});
    s.push_back({p + "q_b_proj.weight", {Hh * qkDim_, qLoraRank_}});
  } else {
    s.push_back({p + "q_proj.weight", {Hh * qkDim_, H}});
  }
  s.push_back({p + "kv_a_proj_with_mqa.weight", {kvLoraRank_ + ropeDim_, H}});
  if (attnBias_) s.push_back({p + "kv_a_proj_with_mqa.bias", {kvLoraRank_ + ropeDim_}});
  s.push_back({p + "kv_a_layernorm.weight", {kvLoraRank_}});
  s.push_back({p + "kv_b_proj.weight", {Hh * (nopeDim_ + vDim_), kvLoraRank_}});
  s.push_back({p + "o_proj.weight", {H, Hh * vDim_}});
  if (attnBias_) s.push_back({p + "o_proj.bias", {H}});
}

// Small MLA dimensions derived from the head width, a dense first layer, groups where the expert
// count splits into four, and no MTP block (synth writes none).
void deepseekV3SynthConfig(nlohmann::json& c, const SynthDims& d) {
  // One compressed latent serves every head: MoEScope reads deepseek_v3 only with as many key/value
  // heads as query heads, so that is the default, and another explicit count is refused up front.
  if (d.kvHeads != 0 && d.kvHeads != d.heads)
    throw Error(ErrorKind::InvalidArgument, "synth: " + c.value("model_type", std::string("deepseek_v3")) +
                                                " needs kv-heads equal to heads (" + std::to_string(d.heads) +
                                                "), got " + std::to_string(d.kvHeads));
  c["num_key_value_heads"] = d.heads;
  const int64_t headDim = d.hidden / d.heads;
  c["n_routed_experts"] = d.experts;
  c["moe_intermediate_size"] = d.expertIntermediate;
  c["intermediate_size"] = d.denseIntermediate;
  c["n_shared_experts"] = d.sharedIntermediate > 0 ? 1 : 0;
  c["first_k_dense_replace"] = d.layers > 1 ? 1 : 0;
  const int64_t groups = d.experts % 4 == 0 ? 4 : 1;
  c["n_group"] = groups;
  c["topk_group"] = groups > 1 ? 2 : 1;
  c["norm_topk_prob"] = true;
  c["routed_scaling_factor"] = 2.5;
  c["q_lora_rank"] = d.hidden / 2;
  c["kv_lora_rank"] = d.hidden / 4;
  c["qk_nope_head_dim"] = 2 * headDim / 3 / 2 * 2;
  const int64_t ropeDim = std::max<int64_t>(2, headDim / 3 / 2 * 2);
  c["qk_rope_head_dim"] = ropeDim;
  c["v_head_dim"] = headDim;
  c["head_dim"] = ropeDim;
  c["rope_interleave"] = true;
  c["attention_bias"] = false;
  c["num_nextn_predict_layers"] = 0;
}

const ArchitectureType& deepseekV3Type() {
  static const ArchitectureType type{"deepseek_v3", "DeepseekV3ForCausalLM", &makeArchitectureOf<DeepseekV3>,
                                     &deepseekV3SynthConfig};
  return type;
}

}  // namespace moe
