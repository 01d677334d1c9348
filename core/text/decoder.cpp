#include "core/text/decoder.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text/json_fields.h"
#include "core/text/pattern.h"
#include "core/text/utf8.h"

namespace moe::text {
namespace {

using nlohmann::json;

std::vector<char32_t> codePoints(const std::string& s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    size_t len = 0;
    out.push_back(decodeUtf8At(s, i, &len));
    i += len;
  }
  return out;
}

// Maps byte-level characters back to bytes; a token with a character outside the alphabet
// (an added token, say) contributes its own UTF-8 bytes. Invalid UTF-8 becomes U+FFFD.
class ByteLevelDecoder : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& token : tokens) {
      std::string decoded;
      bool inAlphabet = true;
      for (char32_t cp : codePoints(token)) {
        const int b = byteLevelByte(cp);
        if (b < 0) {
          inAlphabet = false;
          break;
        }
        decoded += static_cast<char>(b);
      }
      bytes += inAlphabet ? decoded : token;
    }
    tokens.assign(1, toValidUtf8(bytes));
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool dropOnFirst)
      : replacement_(std::move(replacement)), dropOnFirst_(dropOnFirst) {}
  void apply(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      // Hugging Face drops every marker of the first token when a prefix was prepended.
      tokens[i] =
          Pattern::literal(replacement_).replaceAll(tokens[i], (i == 0 && dropOnFirst_) ? "" : " ");
    }
  }

 private:
  std::string replacement_;
  bool dropOnFirst_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void apply(std::vector<std::string>& tokens) const override {
    for (auto& token : tokens) token = pattern_.replaceAll(token, content_);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// Runs of <0xHH> tokens become the UTF-8 text they spell, or one U+FFFD per byte if invalid.
class ByteFallbackDecoder : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (isValidUtf8(pending)) {
        out.push_back(pending);
      } else {
        for (size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (auto& token : tokens) {
      int byte = -1;
      if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>') {
        if (std::isxdigit(static_cast<unsigned char>(token[3])) &&
            std::isxdigit(static_cast<unsigned char>(token[4]))) {
          byte = static_cast<int>(std::stoi(token.substr(3, 2), nullptr, 16));
        }
      }
      if (byte >= 0) {
        pending += static_cast<char>(byte);
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    tokens = std::move(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& token : tokens) all += token;
    tokens.assign(1, all);
  }
};

// Removes up to `start` leading and `stop` trailing `content` characters from each token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  void apply(std::vector<std::string>& tokens) const override {
    for (auto& token : tokens) {
      const auto cps = codePoints(token);
      size_t begin = 0, end = cps.size();
      while (begin < std::min(start_, cps.size()) && cps[begin] == content_) ++begin;
      for (size_t k = 0; k < stop_ && end > begin && cps[end - 1] == content_; ++k) --end;
      std::string stripped;
      for (size_t k = begin; k < end; ++k) appendUtf8(stripped, cps[k]);
      token = std::move(stripped);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> stages)
      : stages_(std::move(stages)) {}
  void apply(std::vector<std::string>& tokens) const override {
    for (const auto& stage : stages_) stage->apply(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> stages_;
};

size_t countField(const json& cfg, const char* key, const std::string& context) {
  if (!cfg.contains(key) || cfg[key].is_null()) return 0;
  if (!cfg[key].is_number_unsigned() &&
      !(cfg[key].is_number_integer() && cfg[key].get<int64_t>() >= 0)) {
    throw Error(ErrorKind::Format, context + ": field \"" + key + "\" must be a count");
  }
  return cfg[key].get<size_t>();
}

}  // namespace

std::unique_ptr<Decoder> makeDecoder(const json& cfg, const std::string& file) {
  if (cfg.is_null()) return nullptr;
  const std::string context = file + ": decoder";
  const std::string type = componentType(cfg, context);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    bool prepend = boolField(cfg, "add_prefix_space", true, context);
    if (prepend && cfg.contains("prepend_scheme") && cfg["prepend_scheme"].is_string()) {
      prepend = cfg["prepend_scheme"].get<std::string>() != "never";
    }
    return std::make_unique<MetaspaceDecoder>(stringField(cfg, "replacement", "\u2581", context),
                                              prepend);
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(
        Pattern::fromJson(requiredField(cfg, "pattern", context), context),
        stringField(cfg, "content", "", context));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const std::string content = stringField(cfg, "content", " ", context);
    size_t len = 0;
    if (content.empty() || (decodeUtf8At(content, 0, &len), len != content.size())) {
      throw Error(ErrorKind::Format, context + ": Strip content must be one character");
    }
    return std::make_unique<StripDecoder>(decodeUtf8At(content, 0, &len),
                                          countField(cfg, "start", context),
                                          countField(cfg, "stop", context));
  }
  if (type == "Sequence") {
    const json& list = requiredField(cfg, "decoders", context);
    if (!list.is_array()) throw Error(ErrorKind::Format, context + ": \"decoders\" must be a list");
    std::vector<std::unique_ptr<Decoder>> stages;
    for (const auto& item : list) {
      if (auto stage = makeDecoder(item, file)) stages.push_back(std::move(stage));
    }
    return std::make_unique<SequenceDecoder>(std::move(stages));
  }
  throw unsupportedComponent(file, "decoder", type,
                             "ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence");
}

}  // namespace moe::text
