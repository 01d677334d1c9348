#pragma once
// The BPE model of tokenizer.json: vocabulary, ranked merges, byte fallback, unknown-token
// fusing, continuing-subword prefix / end-of-word suffix, ignore_merges. Internal to
// moescope_text.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace moe::text {

class BpeModel {
 public:
  // `cfg` is the "model" object; `file` names the source for errors. Throws Unsupported for
  // BPE dropout (non-deterministic) and Format for inconsistent vocab/merges.
  BpeModel(const nlohmann::json& cfg, const std::string& file);

  // Appends the ids of one pre-tokenized word. Thread-safe (the word cache is locked).
  void tokenize(const std::string& word, std::vector<int32_t>& out) const;

  std::optional<int32_t> tokenToId(const std::string& token) const;
  const std::string* idToToken(int32_t id) const;
  // Largest id + 1.
  size_t idLimit() const { return idToToken_.size(); }

 private:
  std::vector<int32_t> mergeWord(const std::string& word) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> idToToken_;  // empty string for ids absent from the vocab
  std::vector<bool> hasId_;
  // (left id << 32 | right id) -> (rank, merged id)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;
  std::optional<int32_t> unkId_;
  std::string continuingPrefix_;
  std::string endOfWordSuffix_;
  bool fuseUnk_ = false;
  bool byteFallback_ = false;
  bool ignoreMerges_ = false;

  // Calibration text repeats words heavily; caching merge results makes tokenizing a megabyte
  // of text take a fraction of a second. Cleared when it grows past kMaxCacheEntries.
  static constexpr size_t kMaxCacheEntries = 500000;
  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace moe::text
