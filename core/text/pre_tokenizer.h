#pragma once
// tokenizer.json "pre_tokenizer" stage: cuts normalized text into the words BPE works on.
// Supported types: Split, ByteLevel, Metaspace, Digits, WhitespaceSplit, Sequence. Anything
// else throws ErrorKind::Unsupported. Internal to moescope_text.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace moe::text {

struct Piece {
  std::string text;
  // True when the piece begins at offset 0 of the original input (Metaspace's
  // prepend_scheme "first" only adds the marker there).
  bool atStart = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by the finer pieces; empty pieces are dropped, as Hugging Face does.
  virtual void apply(std::vector<Piece>& pieces) const = 0;
};

// Returns nullptr for a JSON null (the whole text is one word). `file` names the source.
std::unique_ptr<PreTokenizer> makePreTokenizer(const nlohmann::json& cfg, const std::string& file);

}  // namespace moe::text
