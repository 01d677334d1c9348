#include "core/merge/expert_map_modeling.h"

#include <utility>

#include "core/error.h"
#include "expert_map_modeling_py.h"  // generated: kExpertMapModelingTemplate

namespace moe {

std::string transformersCausalLMClass(const std::string& modelType) {
  // The class transformers registers for each model_type MoEScope supports (its CausalLM mapping).
  static const std::pair<const char*, const char*> kClasses[] = {
      {"mixtral", "MixtralForCausalLM"},       {"qwen2_moe", "Qwen2MoeForCausalLM"},
      {"qwen3_moe", "Qwen3MoeForCausalLM"},    {"olmoe", "OlmoeForCausalLM"},
      {"granitemoe", "GraniteMoeForCausalLM"}, {"deepseek_v3", "DeepseekV3ForCausalLM"},
      {"gpt_oss", "GptOssForCausalLM"},
  };
  for (const auto& [type, cls] : kClasses)
    if (modelType == type) return cls;
  throw Error(ErrorKind::Unsupported,
              "expert-map export: no transformers class known for model_type '" + modelType + "'");
}

std::string expertMapModelingSource(const std::string& modelType) {
  std::string text = kExpertMapModelingTemplate;
  auto replace = [&](const std::string& key, const std::string& value) {
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  };
  replace("{{MODEL_TYPE}}", modelType);
  replace("{{BASE_CLASS}}", transformersCausalLMClass(modelType));
  return text;
}

}  // namespace moe
