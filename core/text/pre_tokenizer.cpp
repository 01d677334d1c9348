#include "core/text/pre_tokenizer.h"

#include <algorithm>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text/json_fields.h"
#include "core/text/pattern.h"
#include "core/text/utf8.h"

namespace moe::text {
namespace {

using nlohmann::json;

// SplitDelimiterBehavior of Hugging Face: what happens to the matched delimiters.
enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Segment {
  size_t begin, end;
  bool isMatch;
};

Behavior parseBehavior(const std::string& name, const std::string& context) {
  if (name == "Removed") return Behavior::Removed;
  if (name == "Isolated") return Behavior::Isolated;
  if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::MergedWithNext;
  if (name == "Contiguous") return Behavior::Contiguous;
  throw Error(ErrorKind::Unsupported,
              context + ": split behavior \"" + name + "\" is not supported");
}

// Covers the whole text with alternating non-match / match segments.
std::vector<Segment> segmentsFromMatches(size_t length,
                                         const std::vector<std::pair<size_t, size_t>>& matches) {
  std::vector<Segment> segments;
  size_t prev = 0;
  for (const auto& [begin, end] : matches) {
    if (prev != begin) segments.push_back({prev, begin, false});
    segments.push_back({begin, end, true});
    prev = end;
  }
  if (prev != length) segments.push_back({prev, length, false});
  return segments;
}

// Every character satisfying `pred` is its own match segment.
std::vector<Segment> charSegments(const std::string& text,
                                  const std::function<bool(char32_t)>& pred) {
  std::vector<std::pair<size_t, size_t>> matches;
  for (size_t i = 0; i < text.size();) {
    size_t len = 0;
    const char32_t c = decodeUtf8At(text, i, &len);
    if (pred(c)) matches.emplace_back(i, i + len);
    i += len;
  }
  return segmentsFromMatches(text.size(), matches);
}

// Applies the delimiter behavior and appends the resulting non-empty pieces to `out`.
void emitSplit(const Piece& piece, const std::vector<Segment>& segments, Behavior behavior,
               std::vector<Piece>& out) {
  std::vector<std::pair<size_t, size_t>> ranges;
  switch (behavior) {
    case Behavior::Removed:
      for (const auto& s : segments) {
        if (!s.isMatch) ranges.emplace_back(s.begin, s.end);
      }
      break;
    case Behavior::Isolated:
      for (const auto& s : segments) ranges.emplace_back(s.begin, s.end);
      break;
    case Behavior::MergedWithPrevious: {
      bool previousMatch = false;
      for (const auto& s : segments) {
        if (s.isMatch && !previousMatch && !ranges.empty())
          ranges.back().second = s.end;
        else
          ranges.emplace_back(s.begin, s.end);
        previousMatch = s.isMatch;
      }
      break;
    }
    case Behavior::MergedWithNext: {
      bool nextMatch = false;  // walking right to left
      for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        if (it->isMatch && !nextMatch && !ranges.empty())
          ranges.back().first = it->begin;
        else
          ranges.emplace_back(it->begin, it->end);
        nextMatch = it->isMatch;
      }
      std::reverse(ranges.begin(), ranges.end());
      break;
    }
    case Behavior::Contiguous: {
      bool previousMatch = false;
      for (const auto& s : segments) {
        if (s.isMatch == previousMatch && !ranges.empty())
          ranges.back().second = s.end;
        else
          ranges.emplace_back(s.begin, s.end);
        previousMatch = s.isMatch;
      }
      break;
    }
  }
  for (const auto& [begin, end] : ranges) {
    if (begin == end) continue;
    out.push_back({piece.text.substr(begin, end - begin), piece.atStart && begin == 0});
  }
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(Pattern pattern, Behavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    for (const auto& piece : pieces) {
      auto segments = segmentsFromMatches(piece.text.size(), pattern_.findAll(piece.text));
      if (invert_) {
        for (auto& s : segments) s.isMatch = !s.isMatch;
      }
      emitSplit(piece, segments, behavior_, out);
    }
    pieces = std::move(out);
  }

 private:
  Pattern pattern_;
  Behavior behavior_;
  bool invert_;
};

// GPT-2's word regex, built into the ByteLevel pre-tokenizer when use_regex is true.
const char* const kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, const std::string& context)
      : addPrefixSpace_(addPrefixSpace), useRegex_(useRegex) {
    if (useRegex_) regex_ = Pattern::regex(kGpt2Regex, context);
  }
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> split;
    for (auto& piece : pieces) {
      if (addPrefixSpace_ && !piece.text.empty() && piece.text[0] != ' ') {
        piece.text.insert(piece.text.begin(), ' ');
      }
      if (useRegex_) {
        emitSplit(piece, segmentsFromMatches(piece.text.size(), regex_.findAll(piece.text)),
                  Behavior::Isolated, split);
      } else if (!piece.text.empty()) {
        split.push_back(std::move(piece));
      }
    }
    // Show every byte as a printable character of the byte-level alphabet.
    for (auto& piece : split) {
      std::string mapped;
      mapped.reserve(piece.text.size() * 2);
      for (char c : piece.text) mapped += byteLevelChar(static_cast<uint8_t>(c));
      piece.text = std::move(mapped);
    }
    pieces = std::move(split);
  }

 private:
  bool addPrefixSpace_, useRegex_;
  Pattern regex_;
};

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    const Pattern marker = Pattern::literal(replacement_);
    for (auto& piece : pieces) {
      std::string text = Pattern::literal(" ").replaceAll(piece.text, replacement_);
      const bool startsWithMarker = text.compare(0, replacement_.size(), replacement_) == 0;
      const bool prepend =
          !text.empty() && !startsWithMarker &&
          (scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && piece.atStart));
      if (prepend) text = replacement_ + text;
      Piece replaced{std::move(text), piece.atStart};
      if (split_) {
        emitSplit(replaced,
                  segmentsFromMatches(replaced.text.size(), marker.findAll(replaced.text)),
                  Behavior::MergedWithNext, out);
      } else if (!replaced.text.empty()) {
        out.push_back(std::move(replaced));
      }
    }
    pieces = std::move(out);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class CharClassPreTokenizer : public PreTokenizer {
 public:
  CharClassPreTokenizer(std::function<bool(char32_t)> pred, Behavior behavior)
      : pred_(std::move(pred)), behavior_(behavior) {}
  void apply(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    for (const auto& piece : pieces)
      emitSplit(piece, charSegments(piece.text, pred_), behavior_, out);
    pieces = std::move(out);
  }

 private:
  std::function<bool(char32_t)> pred_;
  Behavior behavior_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> stages)
      : stages_(std::move(stages)) {}
  void apply(std::vector<Piece>& pieces) const override {
    for (const auto& stage : stages_) stage->apply(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> stages_;
};

PrependScheme parsePrependScheme(const json& cfg, const std::string& context) {
  // Files written before prepend_scheme existed only have add_prefix_space; an explicit
  // add_prefix_space=false means "never" whatever the scheme says.
  if (!boolField(cfg, "add_prefix_space", true, context)) return PrependScheme::Never;
  if (cfg.contains("prepend_scheme") && !cfg["prepend_scheme"].is_null()) {
    const std::string scheme = stringField(cfg, "prepend_scheme", "always", context);
    if (scheme == "always") return PrependScheme::Always;
    if (scheme == "first") return PrependScheme::First;
    if (scheme == "never") return PrependScheme::Never;
    throw Error(ErrorKind::Unsupported,
                context + ": prepend_scheme \"" + scheme + "\" is not supported");
  }
  return PrependScheme::Always;
}

}  // namespace

std::unique_ptr<PreTokenizer> makePreTokenizer(const json& cfg, const std::string& file) {
  if (cfg.is_null()) return nullptr;
  const std::string context = file + ": pre_tokenizer";
  const std::string type = componentType(cfg, context);
  if (type == "Split") {
    return std::make_unique<SplitPreTokenizer>(
        Pattern::fromJson(requiredField(cfg, "pattern", context), context),
        parseBehavior(stringField(cfg, "behavior", "Isolated", context), context),
        boolField(cfg, "invert", false, context));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(
        boolField(cfg, "add_prefix_space", true, context),
        boolField(cfg, "use_regex", true, context), context);
  }
  if (type == "Metaspace") {
    return std::make_unique<MetaspacePreTokenizer>(
        stringField(cfg, "replacement", "\u2581", context), parsePrependScheme(cfg, context),
        boolField(cfg, "split", true, context));
  }
  if (type == "Digits") {
    const bool individual = boolField(cfg, "individual_digits", false, context);
    return std::make_unique<CharClassPreTokenizer>(
        isUnicodeNumeric, individual ? Behavior::Isolated : Behavior::Contiguous);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<CharClassPreTokenizer>(isUnicodeWhitespace, Behavior::Removed);
  }
  if (type == "Sequence") {
    const json& list = requiredField(cfg, "pretokenizers", context);
    if (!list.is_array())
      throw Error(ErrorKind::Format, context + ": \"pretokenizers\" must be a list");
    std::vector<std::unique_ptr<PreTokenizer>> stages;
    for (const auto& item : list) {
      if (auto stage = makePreTokenizer(item, file)) stages.push_back(std::move(stage));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(stages));
  }
  throw unsupportedComponent(file, "pre_tokenizer", type,
                             "Split, ByteLevel, Metaspace, Digits, WhitespaceSplit, Sequence");
}

}  // namespace moe::text
