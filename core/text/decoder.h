#pragma once
// tokenizer.json "decoder" stage: turns token strings back into text. Supported types:
// ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence. Anything else throws
// ErrorKind::Unsupported. Internal to moescope_text.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace moe::text {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Hugging Face's decode_chain: token strings in, token strings out; the caller joins them.
  virtual void apply(std::vector<std::string>& tokens) const = 0;
};

// Returns nullptr for a JSON null (tokens are then joined with spaces, as Hugging Face does).
std::unique_ptr<Decoder> makeDecoder(const nlohmann::json& cfg, const std::string& file);

}  // namespace moe::text
