#include "core/arch/standard_attention.h"

#include <cmath>

namespace moe {

void addStandardAttention(std::vector<TensorSpec>& specs, const ModelConfig& cfg, const std::string& prefix,
                          const StandardAttentionSpec& spec) {
  const std::string& p = prefix;
  const int64_t H = cfg.hiddenSize, q = cfg.numHeads * cfg.headDim, kv = cfg.numKvHeads * cfg.headDim;
  specs.push_back({p + "q_proj.weight", {q, H}});
  specs.push_back({p + "k_proj.weight", {kv, H}});
  specs.push_back({p + "v_proj.weight", {kv, H}});
  specs.push_back({p + "o_proj.weight", {H, q}});
  if (spec.qkvBias) {
    specs.push_back({p + "q_proj.bias", {q}});
    specs.push_back({p + "k_proj.bias", {kv}});
    specs.push_back({p + "v_proj.bias", {kv}});
  }
  if (spec.outputBias) specs.push_back({p + "o_proj.bias", {H}});
  if (spec.qkNorm == StandardAttentionSpec::QkNorm::PerHead) {
    specs.push_back({p + "q_norm.weight", {cfg.headDim}});
    specs.push_back({p + "k_norm.weight", {cfg.headDim}});
  } else if (spec.qkNorm == StandardAttentionSpec::QkNorm::Full) {
    specs.push_back({p + "q_norm.weight", {q}});
    specs.push_back({p + "k_norm.weight", {kv}});
  }
  if (spec.sinks) specs.push_back({p + "sinks", {cfg.numHeads}});
}

at::Tensor standardAttention(const LayerWeights& w, const ModelConfig& cfg, const std::string& prefix, const at::Tensor& x,
                             const StandardAttentionSpec& spec, const RopeTable& ropeTable, int64_t slidingWindow,
                             DecodeState* decode, int layer) {
  const RopeTable rope = decode ? ropeRows(ropeTable, decode->positions) : ropeTable;
  const std::string& p = prefix;
  const int64_t B = x.size(0), T = x.size(1), D = cfg.headDim;
  at::Tensor q = dense(x, w.get(p + "q_proj.weight"), w.getOr(p + "q_proj.bias"));
  at::Tensor k = dense(x, w.get(p + "k_proj.weight"), w.getOr(p + "k_proj.bias"));
  at::Tensor v = dense(x, w.get(p + "v_proj.weight"), w.getOr(p + "v_proj.bias"));
  if (spec.clipQkv > 0) {
    q = q.clamp(-spec.clipQkv, spec.clipQkv);
    k = k.clamp(-spec.clipQkv, spec.clipQkv);
    v = v.clamp(-spec.clipQkv, spec.clipQkv);
  }
  using QkNorm = StandardAttentionSpec::QkNorm;
  if (spec.qkNorm == QkNorm::Full) {  // OLMoE normalises the whole projection before splitting heads
    q = rmsNorm(q, w.get(p + "q_norm.weight"), cfg.rmsNormEps);
    k = rmsNorm(k, w.get(p + "k_norm.weight"), cfg.rmsNormEps);
  }
  q = q.view({B, T, -1, D});
  k = k.view({B, T, -1, D});
  v = v.view({B, T, -1, D});
  if (spec.qkNorm == QkNorm::PerHead) {  // Qwen3 normalises each head
    q = rmsNorm(q, w.get(p + "q_norm.weight"), cfg.rmsNormEps);
    k = rmsNorm(k, w.get(p + "k_norm.weight"), cfg.rmsNormEps);
  }
  q = q.transpose(1, 2);
  k = k.transpose(1, 2);
  if (spec.rotaryDim > 0 && spec.rotaryDim < D) {
    const int64_t r = spec.rotaryDim;
    q = at::cat({applyRope(q.narrow(-1, 0, r), rope), q.narrow(-1, r, D - r)}, -1);
    k = at::cat({applyRope(k.narrow(-1, 0, r), rope), k.narrow(-1, r, D - r)}, -1);
  } else if (spec.ropeInterleaved) {
    // Both q and k come out with their pairs de-interleaved: the same permutation of each head,
    // so the attention scores are those of rotating the pairs in place.
    q = applyRopeInterleaved(q, rope);
    k = applyRopeInterleaved(k, rope);
  } else {
    q = applyRope(q, rope);
    k = applyRope(k, rope);
  }
  v = v.transpose(1, 2);
  AttentionOptions opts;
  if (decode) decode->attend(layer, k, v, opts);
  opts.scaling = spec.scaling > 0 ? spec.scaling : 1.0 / std::sqrt(static_cast<double>(D));
  opts.slidingWindow = slidingWindow;
  if (spec.sinks) opts.sinks = w.get(p + "sinks");
  at::Tensor out = attention(q, k, v, opts);
  return dense(out, w.get(p + "o_proj.weight"), w.getOr(p + "o_proj.bias"));
}

void StandardAttentionArchitecture::prepare(int64_t seqLen, const Runtime& rt) {
  const int64_t dim = attn_.rotaryDim > 0 ? attn_.rotaryDim : cfg_.headDim;
  rope_ = makeRopeTable(cfg_.rope, dim, cfg_.getInt("max_position_embeddings", seqLen), seqLen, rt);
}

at::Tensor StandardAttentionArchitecture::attention(int layer, const LayerWeights& w, const at::Tensor& x) const {
  return standardAttention(w, cfg_, layerPrefix(layer) + "self_attn.", x, attn_, rope_, slidingWindow(layer), decode_,
                           layer);
}

std::vector<TensorSpec> StandardAttentionArchitecture::attentionTensors(int layer) const {
  std::vector<TensorSpec> s;
  addNorms(s, layer);
  addStandardAttention(s, cfg_, layerPrefix(layer) + "self_attn.", attn_);
  return s;
}

MoeBlock StandardAttentionArchitecture::softmaxRoutedBlock(const LayerWeights& w, const std::string& routerName,
                                                          bool normalize, const std::string& routerBias) const {
  MoeBlock b;
  b.routerWeight = w.get(routerName);
  if (!routerBias.empty()) b.routerBias = w.get(routerBias);
  b.routing.topK = topK();
  b.routing.normalize = normalize;
  return b;
}

void StandardAttentionArchitecture::addProjExpertsMoe(std::vector<TensorSpec>& s, const std::string& p, int layer,
                                                     int64_t width) const {
  s.push_back({p + "gate.weight", {numExperts(), cfg_.hiddenSize}});
  addPerExpert(s, p + "experts.", numSlots(layer), width, "gate_proj", "up_proj", "down_proj");
}

MoeBlock StandardAttentionArchitecture::projExpertsMoeBlock(const LayerWeights& w, const std::string& p,
                                                            int layer) const {
  MoeBlock b = softmaxRoutedBlock(w, p + "gate.weight", cfg_.normTopkProb);
  stackPerExpert(b, w, p + "experts.", numSlots(layer), "gate_proj", "up_proj", "down_proj");
  return b;
}

}  // namespace moe
