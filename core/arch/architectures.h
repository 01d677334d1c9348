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
const ArchitectureType& deepseekV32Type();
const ArchitectureType& kimiK2Type();     // DeepSeek-V3 under the name kimi_k2
const ArchitectureType& gptOssType();
const ArchitectureType& glm4MoeType();
const ArchitectureType& qwen3NextType();
const ArchitectureType& qwen3_5MoeType();  // Qwen3_5MoeForConditionalGeneration (text_config)
const ArchitectureType& miniMaxM2Type();
const ArchitectureType& ernie45MoeType();
const ArchitectureType& llama4Type();      // Llama4ForConditionalGeneration (text_config)
const ArchitectureType& llama4TextType();  // Llama4ForCausalLM

}  // namespace moe
