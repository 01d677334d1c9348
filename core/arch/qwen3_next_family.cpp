#include "core/arch/qwen3_next_family.h"

#include <cmath>
#include <vector>

#include "core/arch/gated_deltanet.h"
#include "core/arch/partial_rotary.h"
#include "core/error.h"
#include "core/limits.h"

namespace moe {

namespace {

// transformers maps these older layer type names onto the current ones (remap_legacy_layer_types).
std::string currentLayerType(const std::string& t) {
  if (t == "mamba" || t == "conv") return "linear_attention";
  if (t == "attention") return "full_attention";
  return t;
}

int64_t boundedWidth(const ModelConfig& c, const std::string& key, int64_t fallback, int64_t minimum = 1) {
  const int64_t v = c.getInt(key, fallback);
  if (v < minimum || v > limits::kMaxWidth)
    throw Error(ErrorKind::Config, c.source() + ": " + key + " is " + std::to_string(v) + ", expected an integer in [" +
                                       std::to_string(minimum) + ", " + std::to_string(limits::kMaxWidth) + "]");
  return v;
}

}  // namespace

Qwen3NextFamily::Qwen3NextFamily(const ModelConfig& c, bool normalizeTopk, bool fusedExperts)
    : Architecture(c), normalizeTopk_(normalizeTopk), fused_(fusedExperts) {
  // Defaults are those of transformers' Qwen3NextConfig / Qwen3_5MoeTextConfig for absent fields.
  const std::string& src = c.source();
  const std::string act = c.getString("hidden_act", "silu");
  if (act != "silu")
    throw Error(ErrorKind::Config, src + ": hidden_act is '" + act + "'; " + c.modelType +
                                       " is supported with silu (experts and the linear-attention convolution use it)");
  headDim_ = c.has("head_dim") ? c.headDim : 256;
  cfg_.headDim = headDim_;
  cfg_.moeIntermediateSize = boundedWidth(c, "moe_intermediate_size", 512);
  sharedWidth_ = boundedWidth(c, "shared_expert_intermediate_size", 512, 0);
  attentionBias_ = c.getBool("attention_bias", false);
  numKeyHeads_ = boundedWidth(c, "linear_num_key_heads", 16);
  numValueHeads_ = boundedWidth(c, "linear_num_value_heads", 32);
  keyHeadDim_ = boundedWidth(c, "linear_key_head_dim", 128);
  valueHeadDim_ = boundedWidth(c, "linear_value_head_dim", 128);
  convKernel_ = boundedWidth(c, "linear_conv_kernel_dim", 4);
  // Each key head serves linear_num_value_heads / linear_num_key_heads value heads.
  if (numValueHeads_ % numKeyHeads_ != 0)
    throw Error(ErrorKind::Config, src + ": linear_num_value_heads (" + std::to_string(numValueHeads_) +
                                       ") is not a multiple of linear_num_key_heads (" + std::to_string(numKeyHeads_) + ")");
  mtpLayers_ = c.getInt("mtp_num_hidden_layers", 1);
  if (mtpLayers_ < 0 || mtpLayers_ > limits::kMaxLayers)
    throw Error(ErrorKind::Config, src + ": mtp_num_hidden_layers must lie in [0, " + std::to_string(limits::kMaxLayers) + "]");

  rotaryDim_ = partialRotaryDim(c, headDim_, 0.25);

  const int64_t L = cfg_.numLayers;
  const std::vector<std::string> types = c.getStringList("layer_types");
  if (!types.empty()) {
    if (static_cast<int64_t>(types.size()) != L)
      throw Error(ErrorKind::Config, src + ": layer_types lists " + std::to_string(types.size()) +
                                         " layers, num_hidden_layers is " + std::to_string(L));
    for (size_t i = 0; i < types.size(); ++i) {
      const std::string t = currentLayerType(types[i]);
      if (t != "linear_attention" && t != "full_attention")
        throw Error(ErrorKind::Config, src + ": layer_types[" + std::to_string(i) + "] is '" + types[i] +
                                           "', expected linear_attention or full_attention");
      linear_.push_back(t == "linear_attention");
    }
  } else {
    const int64_t interval = c.getInt("full_attention_interval", 4);
    if (interval < 1) throw Error(ErrorKind::Config, src + ": full_attention_interval must be at least 1");
    for (int64_t i = 0; i < L; ++i) linear_.push_back((i + 1) % interval != 0);
  }
}

std::vector<TensorSpec> Qwen3NextFamily::blockTensors(const std::string& p, bool linear, bool moe, int64_t slots) const {
  const int64_t H = cfg_.hiddenSize, D = headDim_;
  std::vector<TensorSpec> s{{p + "input_layernorm.weight", {H}}, {p + "post_attention_layernorm.weight", {H}}};
  if (linear) {
    const std::string a = p + "linear_attn.";
    addLinearInputTensors(s, a);
    s.push_back({a + "conv1d.weight", {2 * keyDim() + valueDim(), 1, convKernel_}});
    s.push_back({a + "dt_bias", {numValueHeads_}});
    s.push_back({a + "A_log", {numValueHeads_}});
    s.push_back({a + "norm.weight", {valueHeadDim_}});
    s.push_back({a + "out_proj.weight", {H, valueDim()}});
  } else {
    const std::string a = p + "self_attn.";
    const int64_t q = cfg_.numHeads * D, kv = cfg_.numKvHeads * D;
    s.push_back({a + "q_proj.weight", {2 * q, H}});  // per head: the query, then its gate
    s.push_back({a + "k_proj.weight", {kv, H}});
    s.push_back({a + "v_proj.weight", {kv, H}});
    s.push_back({a + "o_proj.weight", {H, q}});
    if (attentionBias_) {
      s.push_back({a + "q_proj.bias", {2 * q}});
      s.push_back({a + "k_proj.bias", {kv}});
      s.push_back({a + "v_proj.bias", {kv}});
      s.push_back({a + "o_proj.bias", {H}});
    }
    s.push_back({a + "q_norm.weight", {D}});
    s.push_back({a + "k_norm.weight", {D}});
  }
  if (moe) {
    addMoeTensors(s, p + "mlp.", slots);
  } else {
    if (cfg_.intermediateSize <= 0)
      throw Error(ErrorKind::Config, cfg_.source() + ": " + p + " has a dense MLP but intermediate_size is not positive");
    addDenseMlp(s, p + "mlp.", cfg_.intermediateSize);
  }
  return s;
}

void Qwen3NextFamily::addMoeTensors(std::vector<TensorSpec>& s, const std::string& p, int64_t slots) const {
  const int64_t H = cfg_.hiddenSize, I = cfg_.moeIntermediateSize;
  s.push_back({p + "gate.weight", {numExperts(), H}});
  if (fused_) {
    s.push_back({p + "experts.gate_up_proj", {slots, 2 * I, H}});
    s.push_back({p + "experts.down_proj", {slots, H, I}});
  } else {
    addPerExpert(s, p + "experts.", slots, I, "gate_proj", "up_proj", "down_proj");
  }
  if (sharedWidth_ > 0) {
    addDenseMlp(s, p + "shared_expert.", sharedWidth_);
    s.push_back({p + "shared_expert_gate.weight", {1, H}});
  }
}

std::vector<TensorSpec> Qwen3NextFamily::layerTensors(int layer) const {
  return blockTensors(layerPrefix(layer), isLinearAttentionLayer(layer), isMoeLayer(layer),
                      isMoeLayer(layer) ? numSlots(layer) : 0);
}

MoeDiskNames Qwen3NextFamily::moeDiskNames(int layer) const {
  const std::string p = moePrefix(layer);
  if (fused_)
    return fusedDiskNames(p + "gate.weight", p + "experts.gate_up_proj", p + "experts.down_proj",
                          /*interleaved=*/false, /*inputMajor=*/false);
  return perExpertDiskNames(p + "gate.weight", p + "experts.", "gate_proj", "up_proj", "down_proj");
}

std::vector<TensorSpec> Qwen3NextFamily::mtpTensors() const {
  const int64_t H = cfg_.hiddenSize;
  std::vector<TensorSpec> s;
  for (int64_t i = 0; i < mtpLayers_; ++i) {
    const auto block = blockTensors("mtp.layers." + std::to_string(i) + ".", /*linear=*/false, /*moe=*/true, numExperts());
    s.insert(s.end(), block.begin(), block.end());
  }
  if (mtpLayers_ > 0) {
    s.push_back({"mtp.fc.weight", {H, 2 * H}});  // projects [pre_fc_norm_embedding(e); pre_fc_norm_hidden(h)]
    s.push_back({"mtp.norm.weight", {H}});
    s.push_back({"mtp.pre_fc_norm_embedding.weight", {H}});
    s.push_back({"mtp.pre_fc_norm_hidden.weight", {H}});
  }
  return s;
}

void Qwen3NextFamily::dropMtpFromConfig(nlohmann::json& cfg) const {
  nlohmann::json& f = cfg_.textFields(cfg);
  f["mtp_num_hidden_layers"] = 0;
  if (f.contains("num_nextn_predict_layers")) f["num_nextn_predict_layers"] = 0;
}

at::Tensor Qwen3NextFamily::norm(const at::Tensor& x, const at::Tensor& weight) const {
  return offsetRmsNorm(x, weight, cfg_.rmsNormEps);
}

void Qwen3NextFamily::prepare(int64_t seqLen, const Runtime& rt) {
  rope_ = makeRopeTable(cfg_.rope, rotaryDim_, cfg_.getInt("max_position_embeddings", seqLen), seqLen, rt);
}

at::Tensor Qwen3NextFamily::attention(int layer, const LayerWeights& w, const at::Tensor& x) const {
  return isLinearAttentionLayer(layer) ? linearAttention(layer, w, layerPrefix(layer) + "linear_attn.", x)
                                       : gatedAttention(layer, w, layerPrefix(layer) + "self_attn.", x);
}

at::Tensor Qwen3NextFamily::linearAttention(int layer, const LayerWeights& w, const std::string& p,
                                            const at::Tensor& xIn) const {
  const int64_t B = xIn.size(0), T = xIn.size(1);
  at::Tensor x = xIn;
  std::vector<at::Tensor>* state = nullptr;  // [convolution inputs, delta-rule state] with a cache
  if (decode_) {
    state = &decode_->recurrent[layer];
    state->resize(2);
    if (decode_->keyValid.defined())
      x = x * decode_->keyValid.narrow(1, decode_->past, T).unsqueeze(-1).to(x.device(), x.scalar_type());
  }
  const LinearInputs in = linearInputs(w, p, x);
  const at::Tensor mixed = causalDepthwiseConvSilu(in.qkv, w.get(p + "conv1d.weight"), state ? &(*state)[0] : nullptr);
  at::Tensor q = mixed.narrow(-1, 0, keyDim()).reshape({B, T, numKeyHeads_, keyHeadDim_});
  at::Tensor k = mixed.narrow(-1, keyDim(), keyDim()).reshape({B, T, numKeyHeads_, keyHeadDim_});
  const at::Tensor v = mixed.narrow(-1, 2 * keyDim(), valueDim()).reshape({B, T, numValueHeads_, valueHeadDim_});
  const at::Tensor beta = at::sigmoid(in.b);
  // The log decay per step and value head, in fp32 (A_log.exp() would overflow in fp16).
  const at::Tensor g = -w.get(p + "A_log").to(at::kFloat).exp() * at::softplus(in.a.to(at::kFloat) + w.get(p + "dt_bias"));
  const int64_t groups = numValueHeads_ / numKeyHeads_;
  if (groups > 1) {
    q = q.repeat_interleave(groups, 2);
    k = k.repeat_interleave(groups, 2);
  }
  // One decoding step is the plain recurrence (a chunk of 1), not a chunk of 64 padded steps.
  const at::Tensor core = gatedDeltaRule(q, k, v, g, beta, state && T == 1 ? 1 : 64, state ? &(*state)[1] : nullptr);
  const at::Tensor out = gatedRmsNorm(core, in.z, w.get(p + "norm.weight"), cfg_.rmsNormEps).reshape({B, T, valueDim()});
  return dense(out, w.get(p + "out_proj.weight"));
}

at::Tensor Qwen3NextFamily::gatedAttention(int layer, const LayerWeights& w, const std::string& p,
                                           const at::Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1), D = headDim_, heads = cfg_.numHeads, kvHeads = cfg_.numKvHeads;
  const double eps = cfg_.rmsNormEps;
  const at::Tensor qg = dense(x, w.get(p + "q_proj.weight"), w.getOr(p + "q_proj.bias")).view({B, T, heads, 2 * D});
  at::Tensor q = offsetRmsNorm(qg.narrow(-1, 0, D), w.get(p + "q_norm.weight"), eps).transpose(1, 2);
  const at::Tensor gate = qg.narrow(-1, D, D).reshape({B, T, heads * D});
  at::Tensor k = dense(x, w.get(p + "k_proj.weight"), w.getOr(p + "k_proj.bias")).view({B, T, kvHeads, D});
  k = offsetRmsNorm(k, w.get(p + "k_norm.weight"), eps).transpose(1, 2);
  at::Tensor v = dense(x, w.get(p + "v_proj.weight"), w.getOr(p + "v_proj.bias")).view({B, T, kvHeads, D}).transpose(1, 2);
  const RopeTable rope = decode_ ? ropeRows(rope_, decode_->positions) : rope_;
  const int64_t r = rotaryDim_;
  if (r < D) {
    q = at::cat({applyRope(q.narrow(-1, 0, r), rope), q.narrow(-1, r, D - r)}, -1);
    k = at::cat({applyRope(k.narrow(-1, 0, r), rope), k.narrow(-1, r, D - r)}, -1);
  } else {
    q = applyRope(q, rope);
    k = applyRope(k, rope);
  }
  AttentionOptions opts;
  opts.scaling = 1.0 / std::sqrt(static_cast<double>(D));
  if (decode_) decode_->attend(layer, k, v, opts);
  const at::Tensor out = moe::attention(q, k, v, opts) * at::sigmoid(gate);
  return dense(out, w.get(p + "o_proj.weight"), w.getOr(p + "o_proj.bias"));
}

MoeBlock Qwen3NextFamily::moeBlock(int layer, const LayerWeights& w) const {
  const std::string p = moePrefix(layer);
  MoeBlock b;
  b.routerWeight = w.get(p + "gate.weight");
  b.routing.topK = topK();
  b.routing.normalize = normalizeTopk_;
  if (fused_) unpackFused(b, w, moeDiskNames(layer));
  else stackPerExpert(b, w, p + "experts.", numSlots(layer), "gate_proj", "up_proj", "down_proj");
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

void qwen3NextFamilySynthFields(nlohmann::json& f, const SynthDims& d) {
  const int64_t headDim = d.hidden / d.heads;
  if (headDim % 8 != 0)
    throw Error(ErrorKind::InvalidArgument, "synth: this architecture rotates a quarter of each head in pairs, so "
                                            "hidden / heads (" + std::to_string(headDim) + ") must be a multiple of 8");
  f["num_experts"] = d.experts;
  f["moe_intermediate_size"] = d.expertIntermediate;
  f["shared_expert_intermediate_size"] = d.sharedIntermediate > 0 ? d.sharedIntermediate : d.expertIntermediate;
  f["partial_rotary_factor"] = 0.25;
  f["rope_parameters"]["partial_rotary_factor"] = 0.25;
  f["attention_bias"] = false;
  // The released models' proportions: twice as many value heads as key heads, all of the head size.
  f["linear_num_key_heads"] = d.heads;
  f["linear_num_value_heads"] = 2 * d.heads;
  f["linear_key_head_dim"] = headDim;
  f["linear_value_head_dim"] = headDim;
  f["linear_conv_kernel_dim"] = 4;
  nlohmann::json types = nlohmann::json::array();
  for (int64_t i = 0; i < d.layers; ++i)
    types.push_back((i + 1) % 4 == 0 || i + 1 == d.layers ? "full_attention" : "linear_attention");
  f["layer_types"] = types;
  f["mtp_num_hidden_layers"] = 0;  // synth writes no MTP block
}

}  // namespace moe
