// DeepSeek-V3.2 (DeepseekV32ForCausalLM): DeepSeek-V3 (deepseek_v3.h: MLA, the same MoE blocks, MTP
// blocks after the decoder layers) plus DeepSeek Sparse Attention in every layer. A lightning indexer
// under `self_attn.indexer.` picks, per query, the min(index_topk, T) causal keys attention may use:
//   q = wq_b(q_resid) per head [n_heads, head_dim] (q_resid = q_a_layernorm(q_a_proj(x)), so query
//   compression is required), k = LayerNorm k_norm (weight and bias, eps 1e-6) of wk(x) [head_dim], both
//   rotated on their FIRST qk_rope_head_dim dims with the half-split rotate_half (the MLA heads use the
//   interleaved form), score(s, t) = sum_h weights_proj(x)[s, h] * n_heads^-0.5 *
//   relu(q[s, h] . k[t] * head_dim^-0.5), computed in fp32 as transformers does.
// Layers are MoE per mlp_layer_types ("dense" / "sparse") when config.json has it, else from
// first_k_dense_replace on. transformers' DeepseekV32Config has no rope_interleave: always interleaved.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/arch/architectures.h"
#include "core/arch/deepseek_v3.h"
#include "core/error.h"
#include "core/limits.h"

namespace moe {
namespace {

class DeepseekV32 : public DeepseekV3 {
 public:
  explicit DeepseekV32(const ModelConfig& c) : DeepseekV3(c) {
    // Defaults are those of transformers' DeepseekV32Config.
    const std::string& src = c.source();
    interleave_ = true;
    indexTopk_ = c.getInt("index_topk", 2048);
    indexDim_ = c.getInt("index_head_dim", 128);
    indexHeads_ = c.getInt("index_n_heads", 64);
    if (qLoraRank_ <= 0)
      throw Error(ErrorKind::Unsupported, src + ": deepseek_v32 needs q_lora_rank (its indexer reads the compressed query)");
    if (indexTopk_ <= 0) throw Error(ErrorKind::Config, src + ": index_topk must be positive");
    if (indexHeads_ <= 0 || indexHeads_ > limits::kMaxWidth || indexDim_ > limits::kMaxWidth)
      throw Error(ErrorKind::Config, src + ": index_n_heads and index_head_dim must lie in [1, " +
                                         std::to_string(limits::kMaxWidth) + "]");
    if (indexDim_ < ropeDim_)
      throw Error(ErrorKind::Config, src + ": index_head_dim (" + std::to_string(indexDim_) +
                                         ") must be at least qk_rope_head_dim (" + std::to_string(ropeDim_) + ")");
    if (c.raw().contains("mlp_layer_types") && !c.raw()["mlp_layer_types"].is_null()) {
      const auto& types = c.raw()["mlp_layer_types"];
      if (!types.is_array() || static_cast<int64_t>(types.size()) != c.numLayers)
        throw Error(ErrorKind::Config, src + ": mlp_layer_types must list one entry per layer (" +
                                           std::to_string(c.numLayers) + ")");
      for (const auto& t : types) {
        if (!t.is_string() || (t != "dense" && t != "sparse"))
          throw Error(ErrorKind::Config, src + ": mlp_layer_types entries must be \"dense\" or \"sparse\"");
        sparse_.push_back(t == "sparse");
      }
    }
  }

  std::string name() const override { return deepseekV32Type().modelType; }
  // Layers past the list are the MTP blocks, which carry a MoE block.
  bool isMoeLayer(int layer) const override {
    return layer < static_cast<int>(sparse_.size()) ? static_cast<bool>(sparse_[layer]) : DeepseekV3::isMoeLayer(layer);
  }

 protected:
  void addAttentionExtras(std::vector<TensorSpec>& s, int layer) const override {
    const std::string p = layerPrefix(layer) + "self_attn.indexer.";
    const int64_t H = cfg_.hiddenSize;
    s.push_back({p + "wq_b.weight", {indexHeads_ * indexDim_, qLoraRank_}});
    s.push_back({p + "wk.weight", {indexDim_, H}});
    s.push_back({p + "k_norm.weight", {indexDim_}});
    s.push_back({p + "k_norm.bias", {indexDim_}});
    s.push_back({p + "weights_proj.weight", {indexHeads_, H}});
  }

  at::Tensor attentionKeyMask(int layer, const LayerWeights& w, const at::Tensor& x,
                              const at::Tensor& qResid) const override {
    const std::string p = layerPrefix(layer) + "self_attn.indexer.";
    const int64_t B = x.size(0), T = x.size(1), Hn = indexHeads_, D = indexDim_;
    const int64_t past = decode_ ? decode_->past : 0, Tk = past + T;
    const int64_t k = std::min(indexTopk_, Tk);
    const auto opts = at::TensorOptions().dtype(at::kBool).device(x.device());
    if (!decode_ && k == T) return at::ones({B, T, T}, opts);  // every causal key is selected
    // The scores in fp32, as transformers computes them. With a KV cache the indexer's keys of
    // earlier tokens are kept beside MLA's (rotated at each row's own positions, as the queries).
    const RopeTable rows = decode_ ? ropeRows(rope_, decode_->positions) : rope_;
    RopeTable rope{rows.cos.to(at::kFloat), rows.sin.to(at::kFloat), rows.attentionFactor};
    at::Tensor xf = x.to(at::kFloat);
    at::Tensor key = dense(xf, w.get(p + "wk.weight").to(at::kFloat));
    key = at::layer_norm(key, {D}, w.get(p + "k_norm.weight").to(at::kFloat), w.get(p + "k_norm.bias").to(at::kFloat),
                         1e-6)
              .unsqueeze(1);  // [B, 1, T, D]
    key = at::cat({applyRope(key.narrow(-1, 0, ropeDim_), rope), key.narrow(-1, ropeDim_, D - ropeDim_)}, -1);
    if (decode_) key = decode_->appendSide(layer, key);  // [B, 1, Tk, D]
    if (k == Tk) return at::ones({B, T, Tk}, opts);
    at::Tensor q = dense(qResid.to(at::kFloat), w.get(p + "wq_b.weight").to(at::kFloat));
    q = q.view({B, T, Hn, D}).transpose(1, 2);  // [B, Hn, T, D]
    q = at::cat({applyRope(q.narrow(-1, 0, ropeDim_), rope), q.narrow(-1, ropeDim_, D - ropeDim_)}, -1);
    at::Tensor weights = dense(xf, w.get(p + "weights_proj.weight").to(at::kFloat)) * std::pow(double(Hn), -0.5);
    weights = weights.transpose(1, 2).unsqueeze(-1);  // [B, Hn, T, 1]

    const auto longs = at::TensorOptions().dtype(at::kLong).device(x.device());
    at::Tensor qIdx = at::arange(past, Tk, longs), kIdx = at::arange(Tk, longs);
    at::Tensor future = kIdx.unsqueeze(0).gt(qIdx.unsqueeze(1));  // [T, Tk] key after query
    // Left padding (a batch of prompts): padding keys must not take a real key's place among the k.
    // A padding query keeps its own key, as DecodeState::keyMask lets it: with no key at all its
    // softmax would be NaN, which would reach the real rows through its value.
    at::Tensor padKey, padQuery, own;
    if (decode_ && decode_->keyValid.defined()) {
      padKey = decode_->keyValid.logical_not().to(x.device());  // [B, Tk]
      padQuery = padKey.narrow(1, past, T);                      // [B, T]
      own = kIdx.unsqueeze(0).eq(qIdx.unsqueeze(1));             // [T, Tk]
    }
    at::Tensor mask = at::zeros({B, T, Tk}, opts);
    const double scale = std::pow(double(D), -0.5);
    const int64_t chunk = 16;  // heads per step: bounds the [heads, T, T] scores of long calibration sequences
    for (int64_t b = 0; b < B; ++b) {
      at::Tensor score = at::zeros({T, Tk}, xf.options());
      for (int64_t h0 = 0; h0 < Hn; h0 += chunk) {
        const int64_t n = std::min(chunk, Hn - h0);
        at::Tensor s = at::relu(at::matmul(q[b].narrow(0, h0, n), key[b].transpose(-1, -2)) * scale);
        score += (s * weights[b].narrow(0, h0, n)).sum(0);
      }
      score = score.masked_fill(future, -std::numeric_limits<float>::infinity());
      if (padKey.defined()) score = score.masked_fill(padKey[b].unsqueeze(0), -std::numeric_limits<float>::infinity());
      // Queries with fewer than k causal keys keep them all (their -inf picks are masked causally,
      // or as padding, anyway).
      mask[b].scatter_(-1, std::get<1>(score.topk(k, -1)), true);
      if (padQuery.defined()) mask[b] |= own & padQuery[b].unsqueeze(1);
    }
    return mask;
  }

 private:
  int64_t indexTopk_ = 2048, indexDim_ = 128, indexHeads_ = 64;
  std::vector<char> sparse_;  // from mlp_layer_types; empty: first_k_dense_replace decides
};

// DeepSeek-V3's synth fields plus a small indexer that keeps half of synth's 8-token probe.
void synthConfig(nlohmann::json& c, const SynthDims& d) {
  deepseekV3SynthConfig(c, d);
  c.erase("rope_interleave");  // not a DeepseekV32Config field
  const int64_t rope = c["qk_rope_head_dim"].get<int64_t>();
  c["index_topk"] = 4;
  c["index_head_dim"] = std::max<int64_t>(2 * rope, 8);
  c["index_n_heads"] = d.heads;
}

}  // namespace

const ArchitectureType& deepseekV32Type() {
  static const ArchitectureType type{"deepseek_v32", "DeepseekV32ForCausalLM", &makeArchitectureOf<DeepseekV32>,
                                     &synthConfig};
  return type;
}

}  // namespace moe
