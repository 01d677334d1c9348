// config.json -> what the loader derives from it (Model::open without the weights): ModelConfig,
// the architecture (its constructor's checks and the shared routing check), which layers are MoE,
// expert-map slots, the tensor table, and the per-forward preparation (rope tables) for 4 tokens.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/arch/architecture.h"
#include "core/error.h"
#include "core/model/config.h"
#include "core/nn/runtime.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] {
    moe::initThreads(1);
    return true;
  }();
  (void)once;
  const std::string path = moe::fuzz::writeScratch("config.json", data, size);
  try {
    const moe::ModelConfig cfg = moe::ModelConfig::fromFile(path);
    const auto arch = moe::makeArchitecture(cfg);
    FUZZ_CHECK(cfg.numLayers >= 1);
    int firstMoe = -1;
    for (int l = 0; l < cfg.numLayers; ++l) {
      if (!arch->isMoeLayer(l)) continue;
      if (firstMoe < 0) firstMoe = l;
      // What the routing check guarantees for every MoE layer.
      FUZZ_CHECK(arch->numExperts() >= 1 && arch->topK() >= 1 && arch->topK() <= arch->numExperts());
      const int64_t slots = arch->numSlots(l);
      FUZZ_CHECK(slots >= 1 && slots <= arch->numExperts());
      (void)arch->expertMap(l);
    }
    (void)arch->globalTensors();
    // The loader checks tensor by tensor and stops at the first missing one; one layer's table (the
    // first, a MoE one, the last) is what it builds before that.
    (void)arch->layerTensors(0);
    if (firstMoe >= 0) (void)arch->layerTensors(firstMoe);
    (void)arch->layerTensors(static_cast<int>(cfg.numLayers - 1));
    arch->prepare(4, moe::Runtime{});
  } catch (const moe::Error&) {
  }
  return 0;
}
