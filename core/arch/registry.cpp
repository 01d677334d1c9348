#include <string>
#include <vector>

#include "core/arch/architectures.h"
#include "core/error.h"

namespace moe {
namespace {

// One line per architecture, in the order the CLI and errors list them.
const std::vector<const ArchitectureType*>& registry() {
  static const std::vector<const ArchitectureType*> table{
      &mixtralType(),    &qwen2MoeType(),   &qwen3MoeType(), &olmoeType(),
      &graniteMoeType(), &deepseekV3Type(), &deepseekV32Type(), &kimiK2Type(),
      &gptOssType(),
      &glm4MoeType(),
      &qwen3NextType(), &qwen3_5MoeType(),
      &miniMaxM2Type(), &ernie45MoeType(),
      &llama4Type(), &llama4TextType(),
  };
  return table;
}

std::string supportedList() {
  std::string list;
  for (const auto* t : registry()) list += (list.empty() ? "" : ", ") + t->modelType;
  return list;
}

}  // namespace

std::vector<std::string> supportedArchitectures() {
  std::vector<std::string> names;
  for (const auto* t : registry()) names.push_back(t->modelType);
  return names;
}

const ArchitectureType& architectureType(const std::string& modelType) {
  for (const auto* t : registry())
    if (t->modelType == modelType) return *t;
  throw Error(ErrorKind::Unsupported,
              "model_type '" + modelType + "' is not supported (supported: " + supportedList() + ")");
}

std::unique_ptr<Architecture> makeArchitecture(const ModelConfig& config) {
  for (const auto* t : registry()) {
    if (t->modelType != config.modelType) continue;
    std::unique_ptr<Architecture> arch = t->make(config);
    validateRouting(*arch);
    return arch;
  }
  throw Error(ErrorKind::Unsupported, config.source() + ": model_type '" + config.modelType +
                                          "' is not supported (supported: " + supportedList() + ")");
}

}  // namespace moe
