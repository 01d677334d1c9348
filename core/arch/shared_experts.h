#pragma once
// The always-on SwiGLU shared expert that DeepSeek-V3, GLM-4.5 and ERNIE-4.5 store beside their
// routed experts as `<moe prefix>shared_experts.{gate,up,down}_proj.weight` (no gate on its output).
#include <string>

#include "core/arch/architecture.h"

namespace moe {

inline SharedExpert sharedExpertsMlp(const LayerWeights& w, const std::string& moePrefix) {
  const std::string p = moePrefix + "shared_experts.";
  SharedExpert se;
  se.gate = w.get(p + "gate_proj.weight");
  se.up = w.get(p + "up_proj.weight");
  se.down = w.get(p + "down_proj.weight");
  return se;
}

}  // namespace moe
