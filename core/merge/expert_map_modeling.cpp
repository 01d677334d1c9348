#include "core/merge/expert_map_modeling.h"

#include "core/arch/architecture.h"
#include "core/error.h"
#include "expert_map_modeling_py.h"  // generated: kExpertMapModelingTemplate

namespace moe {

std::string transformersCausalLMClass(const std::string& modelType) {
  try {
    return architectureType(modelType).causalLMClass;
  } catch (const Error& e) {
    throw Error(ErrorKind::Unsupported, "expert-map export: " + std::string(e.what()));
  }
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
