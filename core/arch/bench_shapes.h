#pragma once
// Layer shapes of the MoE models users analyse, for the analysis benchmark (`moescope-cli bench
// --shape NAME`). Attention and vocabulary do not matter to the analysis and are kept small.
// DeepSeek-V3's hidden size (7168) would make one layer 22 GB: its shape keeps the 256 narrow
// experts and the ratio of hidden to expert width (about 4) at hidden 2048.
#include <cstdint>
#include <string>
#include <vector>

#include "core/arch/architectures.h"
#include "core/engine/synth.h"

namespace moe {

struct BenchShape {
  std::string name;  // the --shape value
  SynthSpec spec;    // layers left at the default: the benchmark sets them
};

// The first is the default (the shape earlier benchmark figures used).
inline const std::vector<BenchShape>& benchShapes() {
  static const std::vector<BenchShape> shapes = [] {
    auto shape = [](const std::string& name, const ArchitectureType& arch, int64_t experts, int64_t topK,
                    int64_t expertIntermediate, int64_t sharedIntermediate, int64_t denseIntermediate,
                    int64_t kvHeads) {
      SynthSpec s;
      s.arch = arch.modelType;
      s.hidden = 2048;
      s.heads = 16;
      s.kvHeads = kvHeads;
      s.vocab = 8192;  // the real vocabularies only change the embedding, not the analysis
      s.experts = experts;
      s.topK = topK;
      s.expertIntermediate = expertIntermediate;
      s.sharedIntermediate = sharedIntermediate;
      s.denseIntermediate = denseIntermediate;
      return BenchShape{name, s};
    };
    return std::vector<BenchShape>{
        shape("qwen1.5", qwen2MoeType(), 60, 4, 1408, 5632, 5632, 16),   // Qwen1.5-MoE-A2.7B (qwen2_moe)
        shape("qwen3", qwen3MoeType(), 128, 8, 768, 0, 6144, 4),         // Qwen3-30B-A3B / Qwen3-Coder-30B
        shape("olmoe", olmoeType(), 64, 8, 1024, 0, 0, 16),              // OLMoE-1B-7B
        shape("deepseek", deepseekV3Type(), 256, 8, 512, 512, 5632, 16), // DeepSeek-V3 / Kimi-K2, scaled
    };
  }();
  return shapes;
}

}  // namespace moe
