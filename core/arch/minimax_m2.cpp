// MiniMax-M2 (MiniMaxM2ForCausalLM).
//   * attention: grouped-query q/k/v/o without biases; RMSNorm over the whole q and k projections
//     (q_norm [heads * head_dim], k_norm [kv_heads * head_dim], as OLMoE) before the heads are split;
//     rotary embedding on the first head_dim * partial_rotary_factor dims of each head (rotate_half
//     within that part, the rest passes through). transformers reads partial_rotary_factor from
//     rope_parameters, else from the top level, else 1 (the whole head); the released config's
//     rotary_dim field is not read by transformers and is not read here either.
//   * every layer is a MoE block under `block_sparse_moe.` as the checkpoints store it (transformers
//     renames it to `mlp.` when loading): router `gate.weight` [E, H], `e_score_correction_bias` [E]
//     beside it (fp32 in the released checkpoints), per-expert `experts.E.w1|w3|w2` (gate, up, down)
//     of width intermediate_size; no shared expert.
//   * routing: sigmoid scores; the k experts with the largest score + correction bias, weighted by
//     their uncorrected scores renormalised to sum to 1 (no groups, no scaling factor).
#include "core/arch/architectures.h"
#include "core/arch/partial_rotary.h"
#include "core/arch/standard_attention.h"
#include "core/error.h"

namespace moe {
namespace {

class MiniMaxM2 : public StandardAttentionArchitecture {
 public:
  explicit MiniMaxM2(const ModelConfig& c) : StandardAttentionArchitecture(c) {
    attn_.qkNorm = StandardAttentionSpec::QkNorm::Full;
    const int64_t rotary = partialRotaryDim(c, cfg_.headDim, 1.0);
    attn_.rotaryDim = rotary < cfg_.headDim ? rotary : 0;  // 0: the whole head
  }

  std::string name() const override { return miniMaxM2Type().modelType; }
  bool isMoeLayer(int) const override { return true; }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "block_sparse_moe."; }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s = attentionTensors(layer);
    const std::string m = moePrefix(layer);
    s.push_back({m + "gate.weight", {numExperts(), cfg_.hiddenSize}});
    s.push_back({m + "e_score_correction_bias", {numExperts()}});
    addPerExpert(s, m + "experts.", numSlots(layer), cfg_.intermediateSize, "w1", "w3", "w2");
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override {
    const std::string m = moePrefix(layer);
    MoeDiskNames n = perExpertDiskNames(m + "gate.weight", m + "experts.", "w1", "w3", "w2");
    n.correctionBias = m + "e_score_correction_bias";
    return n;
  }

  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    const std::string m = moePrefix(layer);
    MoeBlock b;
    b.routerWeight = w.get(m + "gate.weight");
    b.correctionBias = w.get(m + "e_score_correction_bias");
    b.routing.rule = RoutingRule::SigmoidTopK;
    b.routing.topK = topK();
    b.routing.normalize = true;
    stackPerExpert(b, w, m + "experts.", numSlots(layer), "w1", "w3", "w2");
    return b;
  }
};

// The released model's choices: half-rotary heads (so head_dim must split into rotated pairs).
// intermediate_size is the experts' width, as in Mixtral.
void synthConfig(nlohmann::json& c, const SynthDims& d) {
  const int64_t headDim = d.hidden / d.heads;
  if (headDim % 4 != 0)
    throw Error(ErrorKind::InvalidArgument, "synth: minimax_m2 rotates half of each head in pairs, so hidden / heads (" +
                                                std::to_string(headDim) + ") must be a multiple of 4");
  c["num_local_experts"] = d.experts;
  c["intermediate_size"] = d.expertIntermediate;
  c["partial_rotary_factor"] = 0.5;
  c["rope_parameters"]["partial_rotary_factor"] = 0.5;
}

}  // namespace

const ArchitectureType& miniMaxM2Type() {
  static const ArchitectureType type{"minimax_m2", "MiniMaxM2ForCausalLM", &makeArchitectureOf<MiniMaxM2>,
                                     &synthConfig};
  return type;
}

}  // namespace moe
