#pragma once
// tokenizer.json "normalizer" stage. Supported types: NFC, NFD, NFKC, NFKD, Prepend, Replace,
// Strip, Sequence. Anything else throws ErrorKind::Unsupported. Internal to moescope_text.
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace moe::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Takes and returns valid UTF-8.
  virtual std::string normalize(std::string text) const = 0;
};

// Returns nullptr for a JSON null (no normalizer). `file` names the source for errors.
std::unique_ptr<Normalizer> makeNormalizer(const nlohmann::json& cfg, const std::string& file);

}  // namespace moe::text
