// DeepSeek-V3: being written (MLA attention, group-limited sigmoid routing, shared experts).
#include "core/arch/architectures.h"
#include "core/error.h"

namespace moe {

std::unique_ptr<Architecture> makeDeepseekV3(const ModelConfig& c) {
  throw Error(ErrorKind::Unsupported, c.source() + ": deepseek_v3 is not implemented yet");
}

}  // namespace moe
