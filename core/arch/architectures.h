#pragma once
// The type descriptor of each supported architecture, one per source file in core/arch/; the
// registry (registry.cpp) lists them.
#include "core/arch/architecture.h"

namespace moe {

const ArchitectureType& mixtralType();
const ArchitectureType& qwen2MoeType();
const ArchitectureType& qwen3MoeType();
const ArchitectureType& olmoeType();
const ArchitectureType& graniteMoeType();
const ArchitectureType& deepseekV3Type();
const ArchitectureType& gptOssType();

}  // namespace moe
