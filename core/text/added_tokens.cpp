#include "core/text/added_tokens.h"

#include <algorithm>
#include <cstdint>

#include "core/text/utf8.h"

namespace moe::text {
namespace {

// Code point that ends at byte `end` (exclusive) of valid UTF-8.
char32_t codePointBefore(std::string_view s, size_t end, size_t* start) {
  size_t i = end - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  size_t len = 0;
  *start = i;
  return decodeUtf8At(s, i, &len);
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens,
                                     std::vector<std::string> patterns)
    : tokens_(std::move(tokens)), patterns_(std::move(patterns)) {
  for (size_t k = 0; k < patterns_.size(); ++k) {
    if (patterns_[k].empty()) continue;
    byFirstByte_[static_cast<unsigned char>(patterns_[k][0])].push_back(k);
  }
  for (auto& bucket : byFirstByte_) {
    std::stable_sort(bucket.begin(), bucket.end(), [this](size_t a, size_t b) {
      return patterns_[a].size() > patterns_[b].size();
    });
  }
}

std::vector<TextSegment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<TextSegment> segments;
  size_t segmentStart = 0;  // start of the ordinary text not yet emitted
  size_t pos = 0;
  while (pos < text.size()) {
    const auto& bucket = byFirstByte_[static_cast<unsigned char>(text[pos])];
    size_t found = SIZE_MAX;
    for (size_t k : bucket) {  // longest first: the first hit is the leftmost-longest match
      if (text.compare(pos, patterns_[k].size(), patterns_[k]) == 0) {
        found = k;
        break;
      }
    }
    if (found == SIZE_MAX) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[found];
    size_t start = pos, stop = pos + patterns_[found].size();
    pos = stop;  // a rejected match is skipped as a whole, like Aho-Corasick's find_iter
    if (start < segmentStart) continue;  // overlaps text an rstrip already swallowed
    if (token.singleWord) {
      size_t before = 0, len = 0;
      const bool wordBefore = start > 0 && isWordChar(codePointBefore(text, start, &before));
      const bool wordAfter = stop < text.size() && isWordChar(decodeUtf8At(text, stop, &len));
      if (wordBefore || wordAfter) continue;
    }
    if (token.lstrip) {
      while (start > segmentStart) {
        size_t prev = 0;
        if (!isUnicodeWhitespace(codePointBefore(text, start, &prev))) break;
        start = prev;
      }
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t len = 0;
        if (!isUnicodeWhitespace(decodeUtf8At(text, stop, &len))) break;
        stop += len;
      }
      pos = stop;
    }
    if (segmentStart < start) segments.push_back({segmentStart, start, -1});
    segments.push_back({start, stop, token.id});
    segmentStart = stop;
  }
  if (segmentStart < text.size() || segments.empty()) {
    segments.push_back({segmentStart, text.size(), -1});
  }
  return segments;
}

}  // namespace moe::text
