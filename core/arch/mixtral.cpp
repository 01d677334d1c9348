// Mixtral (MixtralForCausalLM): every layer is MoE; per-expert tensors
// `block_sparse_moe.experts.E.w1|w3|w2` (gate, up, down); router `block_sparse_moe.gate`;
// softmax over all experts, top-k, weights renormalised over the k.
#include "core/arch/architectures.h"
#include "core/arch/standard_attention.h"

namespace moe {
namespace {

class Mixtral : public StandardAttentionArchitecture {
 public:
  explicit Mixtral(const ModelConfig& c) : StandardAttentionArchitecture(c) {
    window_ = c.getInt("sliding_window", 0);
  }
  std::string name() const override { return mixtralType().modelType; }
  bool isMoeLayer(int) const override { return true; }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "block_sparse_moe."; }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s = attentionTensors(layer);
    s.push_back({moePrefix(layer) + "gate.weight", {numExperts(), cfg_.hiddenSize}});
    addPerExpert(s, moePrefix(layer) + "experts.", numSlots(layer), cfg_.intermediateSize, "w1", "w3", "w2");
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override {
    return perExpertDiskNames(moePrefix(layer) + "gate.weight", moePrefix(layer) + "experts.", "w1", "w3", "w2");
  }

  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    MoeBlock b = softmaxRoutedBlock(w, moePrefix(layer) + "gate.weight", /*normalize=*/true);
    stackPerExpert(b, w, moePrefix(layer) + "experts.", numSlots(layer), "w1", "w3", "w2");
    return b;
  }

 private:
  int64_t slidingWindow(int) const override { return window_; }
  int64_t window_ = 0;
};

// Mixtral has no separate expert width field: intermediate_size is the experts' width.
void synthConfig(nlohmann::json& c, const SynthDims& d) {
  c["num_local_experts"] = d.experts;
  c["intermediate_size"] = d.expertIntermediate;
}

}  // namespace

const ArchitectureType& mixtralType() {
  static const ArchitectureType type{"mixtral", "MixtralForCausalLM", &makeArchitectureOf<Mixtral>, &synthConfig};
  return type;
}

}  // namespace moe
