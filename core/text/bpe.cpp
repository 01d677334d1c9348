#include "core/text/bpe.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <queue>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/limits.h"
#include "core/text/json_fields.h"
#include "core/text/utf8.h"

namespace moe::text {
namespace {

using nlohmann::json;

uint64_t pairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

std::string optionalString(const json& cfg, const char* key, const std::string& context) {
  return stringField(cfg, key, "", context);
}

}  // namespace

BpeModel::BpeModel(const json& cfg, const std::string& file) {
  const std::string context = file + ": model";
  if (cfg.contains("dropout") && !cfg["dropout"].is_null() &&
      !(cfg["dropout"].is_number() && cfg["dropout"].get<double>() == 0.0)) {
    throw Error(ErrorKind::Unsupported,
                context + ": BPE dropout is not supported (tokenization must be deterministic)");
  }
  const json& vocab = requiredField(cfg, "vocab", context);
  if (!vocab.is_object()) throw Error(ErrorKind::Format, context + ": \"vocab\" must be an object");
  if (vocab.size() > static_cast<size_t>(limits::kMaxVocab))
    throw Error(ErrorKind::Format, context + ": vocab has " + std::to_string(vocab.size()) +
                                       " entries, more than the limit of " + std::to_string(limits::kMaxVocab));
  vocab_.reserve(vocab.size());
  int32_t maxId = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    // Ids index a table: bounded by the vocabulary limit before the table is allocated.
    if (!it.value().is_number_integer() ||
        it.value().get<int64_t>() < 0 || it.value().get<int64_t>() >= limits::kMaxVocab) {
      throw Error(ErrorKind::Format, context + ": vocab entry \"" + it.key() + "\" has id " + it.value().dump() +
                                         ", expected an integer in [0, " + std::to_string(limits::kMaxVocab) + ")");
    }
    const auto id = it.value().get<int32_t>();
    vocab_.emplace(it.key(), id);
    maxId = std::max(maxId, id);
  }
  idToToken_.assign(static_cast<size_t>(maxId + 1), std::string());
  hasId_.assign(static_cast<size_t>(maxId + 1), false);
  for (const auto& [token, id] : vocab_) {
    idToToken_[id] = token;
    hasId_[id] = true;
  }

  continuingPrefix_ = optionalString(cfg, "continuing_subword_prefix", context);
  endOfWordSuffix_ = optionalString(cfg, "end_of_word_suffix", context);
  fuseUnk_ = boolField(cfg, "fuse_unk", false, context);
  byteFallback_ = boolField(cfg, "byte_fallback", false, context);
  ignoreMerges_ = boolField(cfg, "ignore_merges", false, context);
  const std::string unk = optionalString(cfg, "unk_token", context);
  if (!unk.empty()) {
    const auto it = vocab_.find(unk);
    if (it == vocab_.end()) {
      throw Error(ErrorKind::Format, context + ": unk_token \"" + unk + "\" is not in the vocab");
    }
    unkId_ = it->second;
  }

  const json merges = cfg.contains("merges") ? cfg["merges"] : json::array();
  if (!merges.is_array()) throw Error(ErrorKind::Format, context + ": \"merges\" must be a list");
  merges_.reserve(merges.size());
  int32_t rank = 0;
  for (const auto& merge : merges) {
    std::string left, right;
    if (merge.is_string()) {  // older files: "left right"
      const auto s = merge.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        throw Error(ErrorKind::Format, context + ": merge \"" + s + "\" is not two tokens");
      }
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      throw Error(ErrorKind::Format,
                  context + ": merge #" + std::to_string(rank) + " is malformed");
    }
    std::string merged = left;
    if (!continuingPrefix_.empty() &&
        right.compare(0, continuingPrefix_.size(), continuingPrefix_) == 0) {
      merged += right.substr(continuingPrefix_.size());
    } else {
      merged += right;
    }
    const auto l = vocab_.find(left), r = vocab_.find(right), m = vocab_.find(merged);
    if (l == vocab_.end() || r == vocab_.end() || m == vocab_.end()) {
      throw Error(ErrorKind::Format, context + ": merge \"" + left + " " + right +
                                         "\" uses a token missing from the vocab");
    }
    merges_[pairKey(l->second, r->second)] = {rank, m->second};
    ++rank;
  }
}

std::optional<int32_t> BpeModel::tokenToId(const std::string& token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::idToToken(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= idToToken_.size() || !hasId_[id]) return nullptr;
  return &idToToken_[id];
}

void BpeModel::tokenize(const std::string& word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignoreMerges_) {
    if (const auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(cacheMutex_);
    if (const auto it = cache_.find(word); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids = mergeWord(word);
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cacheMutex_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.emplace(word, std::move(ids));
}

std::vector<int32_t> BpeModel::mergeWord(const std::string& word) const {
  // 1. One symbol per character (or per byte with byte fallback, or a possibly fused <unk>).
  std::vector<int32_t> initial;
  std::optional<int32_t> pendingUnk;
  for (size_t i = 0; i < word.size();) {
    size_t len = 0;
    decodeUtf8At(word, i, &len);
    std::string symbol = word.substr(i, len);
    if (i != 0 && !continuingPrefix_.empty()) symbol = continuingPrefix_ + symbol;
    i += len;
    if (i == word.size() && !endOfWordSuffix_.empty()) symbol += endOfWordSuffix_;

    if (const auto it = vocab_.find(symbol); it != vocab_.end()) {
      if (pendingUnk) initial.push_back(*pendingUnk);
      pendingUnk.reset();
      initial.push_back(it->second);
      continue;
    }
    if (byteFallback_) {
      std::vector<int32_t> bytes;
      for (unsigned char b : symbol) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        const auto it = vocab_.find(name);
        if (it == vocab_.end()) break;
        bytes.push_back(it->second);
      }
      if (bytes.size() == symbol.size()) {
        // Hugging Face does not flush a pending <unk> here; keep the same order.
        initial.insert(initial.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (pendingUnk && !fuseUnk_) initial.push_back(*pendingUnk);
    if (!pendingUnk || !fuseUnk_) pendingUnk = unkId_;  // no unk token: the character is dropped
  }
  if (pendingUnk) initial.push_back(*pendingUnk);

  // 2. Apply merges lowest rank first; equal ranks left to right (Hugging Face's Word::merge_all).
  struct Symbol {
    int32_t id;
    int prev, next;
    bool alive;
  };
  std::vector<Symbol> symbols(initial.size());
  for (size_t k = 0; k < initial.size(); ++k) {
    symbols[k] = {initial[k], static_cast<int>(k) - 1,
                  k + 1 < initial.size() ? static_cast<int>(k + 1) : -1, true};
  }
  struct Candidate {
    int32_t rank;
    int pos;
    int32_t newId;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto pushPair = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    const auto it = merges_.find(pairKey(symbols[left].id, symbols[symbols[left].next].id));
    if (it != merges_.end()) queue.push({it->second.first, left, it->second.second});
  };
  for (size_t k = 0; k + 1 < symbols.size(); ++k) pushPair(static_cast<int>(k));

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    // Skip stale entries: one side was merged into something else since this was queued.
    const auto it = merges_.find(pairKey(left.id, right.id));
    if (it == merges_.end() || it->second.second != top.newId) continue;
    left.id = top.newId;
    right.alive = false;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    pushPair(left.prev);
    pushPair(top.pos);
  }

  std::vector<int32_t> ids;
  for (const auto& s : symbols) {
    if (s.alive) ids.push_back(s.id);
  }
  return ids;
}

}  // namespace moe::text
