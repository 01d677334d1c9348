// Kimi-K2 / K2-Thinking (model_type "kimi_k2"): DeepSeek-V3's architecture under its own config name.
// The published config.json names DeepseekV3ForCausalLM and Moonshot's remote code; transformers has no
// kimi_k2 type of its own and runs the weights as DeepSeek-V3 (its Kimi-K2.5 config maps a kimi_k2 text
// config to deepseek_v3 the same way). Everything but the name is deepseek_v3.cpp, including the FP8
// 128x128 block scales the release ships. What differs in practice is in the config: 384 experts in
// one group (n_group = topk_group = 1), routed_scaling_factor 2.827, no MTP block, and YaRN written
// with the transformers-4 keys (rope_theta, rope_scaling.type), which ModelConfig reads.
#include "core/arch/architectures.h"
#include "core/arch/deepseek_v3.h"

namespace moe {
namespace {

class KimiK2 : public DeepseekV3 {
 public:
  using DeepseekV3::DeepseekV3;
  std::string name() const override { return kimiK2Type().modelType; }
};

// DeepSeek-V3's synth fields with Kimi-K2's routing: every expert in one group.
void synthConfig(nlohmann::json& c, const SynthDims& d) {
  deepseekV3SynthConfig(c, d);
  c["n_group"] = 1;
  c["topk_group"] = 1;
  c["routed_scaling_factor"] = 2.827;
  c["num_nextn_predict_layers"] = 0;
}

}  // namespace

const ArchitectureType& kimiK2Type() {
  static const ArchitectureType type{"kimi_k2", "DeepseekV3ForCausalLM", &makeArchitectureOf<KimiK2>, &synthConfig};
  return type;
}

}  // namespace moe
