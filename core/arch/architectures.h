#pragma once
// Factories of the supported architectures, one per source file in core/arch/.
#include "core/arch/architecture.h"

namespace moe {

std::unique_ptr<Architecture> makeMixtral(const ModelConfig& c);
std::unique_ptr<Architecture> makeQwen2Moe(const ModelConfig& c);
std::unique_ptr<Architecture> makeQwen3Moe(const ModelConfig& c);
std::unique_ptr<Architecture> makeOlmoe(const ModelConfig& c);
std::unique_ptr<Architecture> makeGraniteMoe(const ModelConfig& c);
std::unique_ptr<Architecture> makeDeepseekV3(const ModelConfig& c);
std::unique_ptr<Architecture> makeGptOss(const ModelConfig& c);

}  // namespace moe
