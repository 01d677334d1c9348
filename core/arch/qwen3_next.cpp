// Qwen3-Next (Qwen3NextForCausalLM), the hybrid Gated DeltaNet / gated attention MoE model; the
// shared parts are described in core/arch/qwen3_next_family.h. Its own:
//   * linear attention input projections fused per key head: `linear_attn.in_proj_qkvz` [2 nk dk +
//     2 nv dv, H] whose output, viewed per key head, holds [q (dk), k (dk), v (r dv), z (r dv)]
//     with r = nv / nk, and `linear_attn.in_proj_ba` [2 nv, H] holding [b (r), a (r)] per key head;
//   * per-expert tensors `mlp.experts.E.gate_proj|up_proj|down_proj`, as transformers saves them;
//   * dense layers (`mlp.gate_proj|up_proj|down_proj`, intermediate_size) where mlp_only_layers or
//     decoder_sparse_step say so; top-k weights renormalised when norm_topk_prob (default true).
#include "core/arch/architectures.h"
#include "core/arch/qwen3_next_family.h"
#include "core/arch/qwen_sparse_layers.h"

namespace moe {
namespace {

class Qwen3Next : public Qwen3NextFamily {
 public:
  explicit Qwen3Next(const ModelConfig& c)
      : Qwen3NextFamily(c, c.getBool("norm_topk_prob", true), /*fusedExperts=*/false) {
    cfg_.intermediateSize = c.getInt("intermediate_size", 5632);  // transformers' default
  }
  std::string name() const override { return qwen3NextType().modelType; }
  bool isMoeLayer(int layer) const override { return qwenIsSparseLayer(cfg_, layer); }

 protected:
  void addLinearInputTensors(std::vector<TensorSpec>& s, const std::string& p) const override {
    const int64_t H = cfg_.hiddenSize;
    s.push_back({p + "in_proj_qkvz.weight", {2 * keyDim() + 2 * valueDim(), H}});
    s.push_back({p + "in_proj_ba.weight", {2 * numValueHeads_, H}});
  }

  LinearInputs linearInputs(const LayerWeights& w, const std::string& p, const at::Tensor& x) const override {
    const int64_t B = x.size(0), T = x.size(1), nk = numKeyHeads_, r = numValueHeads_ / numKeyHeads_;
    const int64_t dk = keyHeadDim_, rv = r * valueHeadDim_;
    const at::Tensor qkvz = dense(x, w.get(p + "in_proj_qkvz.weight")).view({B, T, nk, 2 * dk + 2 * rv});
    const at::Tensor ba = dense(x, w.get(p + "in_proj_ba.weight")).view({B, T, nk, 2 * r});
    LinearInputs in;
    // Per key head: its query, key, and the values and gates of its r value heads.
    in.qkv = at::cat({qkvz.narrow(-1, 0, dk).reshape({B, T, keyDim()}), qkvz.narrow(-1, dk, dk).reshape({B, T, keyDim()}),
                      qkvz.narrow(-1, 2 * dk, rv).reshape({B, T, valueDim()})},
                     -1);
    in.z = qkvz.narrow(-1, 2 * dk + rv, rv).reshape({B, T, numValueHeads_, valueHeadDim_});
    in.b = ba.narrow(-1, 0, r).reshape({B, T, numValueHeads_});
    in.a = ba.narrow(-1, r, r).reshape({B, T, numValueHeads_});
    return in;
  }
};

void synthConfig(nlohmann::json& c, const SynthDims& d) {
  qwen3NextFamilySynthFields(c, d);
  c["intermediate_size"] = d.denseIntermediate;
  c["norm_topk_prob"] = true;
  c["decoder_sparse_step"] = 1;
  c["mlp_only_layers"] = nlohmann::json::array();
}

}  // namespace

const ArchitectureType& qwen3NextType() {
  static const ArchitectureType type{"qwen3_next", "Qwen3NextForCausalLM", &makeArchitectureOf<Qwen3Next>, &synthConfig};
  return type;
}

}  // namespace moe
