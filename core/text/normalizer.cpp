#include "core/text/normalizer.h"

#include <cstdlib>
#include <vector>

#include <utf8proc.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text/json_fields.h"
#include "core/text/pattern.h"
#include "core/text/utf8.h"

namespace moe::text {
namespace {

using nlohmann::json;

bool isAscii(const std::string& s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// The four Unicode normalization forms through utf8proc.
class UnicodeNormalizer : public Normalizer {
 public:
  UnicodeNormalizer(int options, bool asciiIsStable, std::string name)
      : options_(options), asciiIsStable_(asciiIsStable), name_(std::move(name)) {}

  std::string normalize(std::string text) const override {
    // ASCII is unchanged by every form; skipping it keeps calibration tokenization fast.
    if (text.empty() || (asciiIsStable_ && isAscii(text))) return text;
    utf8proc_uint8_t* out = nullptr;
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                            static_cast<utf8proc_ssize_t>(text.size()), &out,
                                            static_cast<utf8proc_option_t>(options_));
    if (n < 0) {
      throw Error(ErrorKind::Format, name_ + " normalization failed: " + utf8proc_errmsg(n));
    }
    std::string result(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
    std::free(out);
    return result;
  }

 private:
  int options_;
  bool asciiIsStable_;
  std::string name_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string normalize(std::string text) const override {
    // Hugging Face only prepends to non-empty strings.
    return text.empty() ? text : prefix_ + text;
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::string normalize(std::string text) const override {
    return pattern_.replaceAll(text, content_);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  std::string normalize(std::string text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        size_t len = 0;
        if (!isUnicodeWhitespace(decodeUtf8At(text, begin, &len))) break;
        begin += len;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t len = 0;
        if (!isUnicodeWhitespace(decodeUtf8At(text, start, &len))) break;
        end = start;
      }
    }
    return text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> stages)
      : stages_(std::move(stages)) {}
  std::string normalize(std::string text) const override {
    for (const auto& stage : stages_) text = stage->normalize(std::move(text));
    return text;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> stages_;
};

}  // namespace

std::unique_ptr<Normalizer> makeNormalizer(const json& cfg, const std::string& file) {
  if (cfg.is_null()) return nullptr;
  const std::string context = file + ": normalizer";
  const std::string type = componentType(cfg, context);
  if (type == "NFC") {
    return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_COMPOSE, true, type);
  }
  if (type == "NFD") {
    return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE, true, type);
  }
  if (type == "NFKC") {
    return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT,
                                               true, type);
  }
  if (type == "NFKD") {
    return std::make_unique<UnicodeNormalizer>(
        UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, true, type);
  }
  if (type == "Prepend") {
    return std::make_unique<PrependNormalizer>(
        requiredField(cfg, "prepend", context).get<std::string>());
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(
        Pattern::fromJson(requiredField(cfg, "pattern", context), context),
        stringField(cfg, "content", "", context));
  }
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(boolField(cfg, "strip_left", true, context),
                                             boolField(cfg, "strip_right", true, context));
  }
  if (type == "Sequence") {
    const json& list = requiredField(cfg, "normalizers", context);
    if (!list.is_array())
      throw Error(ErrorKind::Format, context + ": \"normalizers\" must be a list");
    std::vector<std::unique_ptr<Normalizer>> stages;
    for (const auto& item : list) {
      if (auto stage = makeNormalizer(item, file)) stages.push_back(std::move(stage));
    }
    return std::make_unique<SequenceNormalizer>(std::move(stages));
  }
  throw unsupportedComponent(file, "normalizer", type,
                             "NFC, NFD, NFKC, NFKD, Prepend, Replace, Strip, Sequence");
}

}  // namespace moe::text
