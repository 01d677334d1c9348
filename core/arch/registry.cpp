#include <functional>
#include <utility>

#include "core/arch/architectures.h"
#include "core/error.h"

namespace moe {
namespace {

using Factory = std::unique_ptr<Architecture> (*)(const ModelConfig&);

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> table{
      {"mixtral", makeMixtral},       {"qwen2_moe", makeQwen2Moe},   {"qwen3_moe", makeQwen3Moe},
      {"olmoe", makeOlmoe},           {"granitemoe", makeGraniteMoe}, {"deepseek_v3", makeDeepseekV3},
      {"gpt_oss", makeGptOss},
  };
  return table;
}

}  // namespace

std::vector<std::string> supportedArchitectures() {
  std::vector<std::string> names;
  for (auto& [n, _] : registry()) names.push_back(n);
  return names;
}

std::unique_ptr<Architecture> makeArchitecture(const ModelConfig& config) {
  for (auto& [n, f] : registry())
    if (n == config.modelType) return f(config);
  std::string list;
  for (auto& n : supportedArchitectures()) list += (list.empty() ? "" : ", ") + n;
  throw Error(ErrorKind::Unsupported, config.source() + ": model_type '" + config.modelType +
                                          "' is not supported (supported: " + list + ")");
}

}  // namespace moe
