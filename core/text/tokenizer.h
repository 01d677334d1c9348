#pragma once
// Hugging Face tokenizer.json in plain C++: byte-level BPE (GPT-2 / Qwen / DeepSeek style) and
// SentencePiece-style BPE (Metaspace + byte fallback), reproducing `tokenizers` ids exactly.
//
// Pipeline per encode(), as in Hugging Face:
//   1. added tokens (special tokens included) are cut out of the raw text;
//   2. each remaining stretch is normalized (NFC, NFKC, Prepend, Replace, Strip, ...);
//      added tokens flagged "normalized" are then cut out of the normalized text;
//   3. the pre-tokenizer splits it into words (Split regex, ByteLevel, Metaspace, Digits, ...);
//   4. the BPE model turns each word into ids (merges by rank, byte fallback, <unk> fusing).
// encode() never adds BOS/EOS: the post_processor section is ignored on purpose, callers
// append EOS themselves (see calibration.h).
//
// Unsupported tokenizer.json features (Unigram/WordPiece models, BertPreTokenizer, Lowercase,
// BPE dropout, ...) throw moe::Error(ErrorKind::Unsupported) naming the feature when loading.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

using TokenId = int32_t;

class Tokenizer {
 public:
  // Loads tokenizer.json. Throws Error: Io (missing/unreadable), Format (bad JSON or content),
  // Unsupported (a feature this implementation lacks). Messages name the file.
  static Tokenizer fromFile(const std::string& path);
  // Same from JSON text; `sourceName` stands in for the file name in error messages.
  static Tokenizer fromJson(const std::string& jsonText,
                            const std::string& sourceName = "tokenizer.json");

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Token ids of `text` without special tokens (HF encode(..., add_special_tokens=False)).
  // Invalid UTF-8 is replaced by U+FFFD first. Thread-safe.
  std::vector<TokenId> encode(std::string_view text) const;

  // Text of `ids` (HF decode). Unknown ids are skipped, as Hugging Face does.
  std::string decode(const std::vector<TokenId>& ids, bool skipSpecialTokens = false) const;

  // Id of a token string, added tokens first (e.g. tokenToId("<|endoftext|>") == 0).
  std::optional<TokenId> tokenToId(std::string_view token) const;
  std::optional<std::string> idToToken(TokenId id) const;
  bool isSpecialToken(TokenId id) const;

  // Largest id of the model vocabulary and the added tokens, plus one: every id encode() can
  // return is below it. (Equals len(tokenizer) in Python when ids are contiguous.)
  size_t vocabSize() const;

  // The file this tokenizer came from (or the sourceName given to fromJson).
  const std::string& source() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  static Tokenizer load(const std::string& jsonText, const std::string& sourceName);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moe
