#pragma once
// The `pattern` of tokenizer.json Split / Replace stages: {"String": "..."} or {"Regex": "..."}.
// Regexes run on PCRE2 in UTF + UCP mode so \s, \p{L}, \w follow Unicode like the Oniguruma
// engine Hugging Face uses. Internal to moescope_text.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace moe::text {

class Pattern {
 public:
  // A literal string pattern.
  static Pattern literal(std::string text);
  // A regex pattern; `context` names the file/stage for error messages (Format on bad regex).
  static Pattern regex(const std::string& expression, const std::string& context);
  // Parses {"String": s} or {"Regex": r}.
  static Pattern fromJson(const nlohmann::json& cfg, const std::string& context);

  // All non-overlapping matches [begin, end) in valid UTF-8 text, left to right, with the
  // empty-match rules of Rust's find_iter (an empty match right after a match is skipped).
  std::vector<std::pair<size_t, size_t>> findAll(std::string_view text) const;

  // Replaces every match by `replacement` (taken literally).
  std::string replaceAll(std::string_view text, std::string_view replacement) const;

 private:
  struct Compiled;
  std::string literal_;
  std::shared_ptr<const Compiled> regex_;  // null for a literal pattern
};

}  // namespace moe::text
