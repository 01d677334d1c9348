#pragma once
// The transformers modeling file shipped inside every expert-map export (core/merge/expert_map_modeling.py,
// embedded at build time) and the auto_map entry that registers it, so that
//   AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)
// builds the stock model of the source architecture with each mapped block's experts shrunk to its
// stored slots and the router's expert ids translated to slots.
#include <string>

namespace moe {

inline constexpr const char* kExpertMapModule = "modeling_moescope_expert_map";
inline constexpr const char* kExpertMapModelingFile = "modeling_moescope_expert_map.py";  // kExpertMapModule + ".py"
inline constexpr const char* kExpertMapModelClass = "MoEScopeExpertMapForCausalLM";

// transformers' causal-LM class of a supported model_type (its ArchitectureType::causalLMClass, e.g.
// MixtralForCausalLM); throws Error(Unsupported) for others.
std::string transformersCausalLMClass(const std::string& modelType);

// The modeling file's text for a checkpoint of `modelType`.
std::string expertMapModelingSource(const std::string& modelType);

}  // namespace moe
