// A merge-plan JSON file (core/merge/plan.cpp). Invariant: an accepted plan survives a
// toJson -> fromJson round trip unchanged.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/merge/plan.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = moe::fuzz::writeScratch("plan.json", data, size);
  try {
    const moe::MergePlan plan = moe::MergePlan::load(path);
    const nlohmann::json once = plan.toJson();
    FUZZ_CHECK(moe::MergePlan::fromJson(once, "round trip").toJson() == once);
    for (const auto& layer : plan.layers) {
      FUZZ_CHECK(static_cast<int64_t>(layer.groupOf().size()) == layer.numExperts);
      FUZZ_CHECK(static_cast<int64_t>(layer.members().size()) == layer.numGroups);
    }
  } catch (const moe::Error&) {
  }
  return 0;
}
