#pragma once
// Added tokens (special tokens like <|endoftext|> and user-added words) are cut out of the text
// before normalization and pre-tokenization, so a chat marker in calibration text always maps
// to its single id. Matching follows Hugging Face's AddedVocabulary: leftmost-longest, with the
// single_word / lstrip / rstrip flags. Internal to moescope_text.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moe::text {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool singleWord = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

struct TextSegment {
  size_t begin, end;  // byte range in the searched text
  int32_t id;         // the added token's id, or -1 for ordinary text
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // `patterns[k]` is the text to look for (the content, normalized for normalized tokens).
  AddedTokenMatcher(std::vector<AddedToken> tokens, std::vector<std::string> patterns);

  bool empty() const { return tokens_.empty(); }
  // Cuts valid UTF-8 text into ordinary stretches and added-token matches, in order, covering
  // the whole text (an empty text gives one empty ordinary segment).
  std::vector<TextSegment> split(std::string_view text) const;

 private:
  std::vector<AddedToken> tokens_;
  std::vector<std::string> patterns_;
  std::array<std::vector<size_t>, 256> byFirstByte_;  // pattern indices, longest first
};

}  // namespace moe::text
