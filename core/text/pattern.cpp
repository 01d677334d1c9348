#include "core/text/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text/utf8.h"

namespace moe::text {

struct Pattern::Compiled {
  pcre2_code* code = nullptr;
  std::string source;
  ~Compiled() { pcre2_code_free(code); }
};

namespace {

bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Oniguruma accepts \uHHHH; PCRE2 spells it \x{HHHH}. Everything else is shared syntax for the
// patterns tokenizer.json files use (\p{..}, (?i:..), lookahead, classes).
std::string translateOnigEscapes(const std::string& re) {
  std::string out;
  out.reserve(re.size());
  for (size_t i = 0; i < re.size(); ++i) {
    if (re[i] != '\\' || i + 1 >= re.size()) {
      out += re[i];
      continue;
    }
    if (re[i + 1] == 'u' && i + 5 < re.size() && isHex(re[i + 2]) && isHex(re[i + 3]) &&
        isHex(re[i + 4]) && isHex(re[i + 5])) {
      out += "\\x{" + re.substr(i + 2, 4) + "}";
      i += 5;
      continue;
    }
    out += re[i];
    out += re[i + 1];  // keep any other escape (including an escaped backslash) intact
    ++i;
  }
  return out;
}

std::string pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.literal_ = std::move(text);
  return p;
}

Pattern Pattern::regex(const std::string& expression, const std::string& context) {
  const std::string translated = translateOnigEscapes(expression);
  int errorCode = 0;
  PCRE2_SIZE errorOffset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()),
                                   translated.size(), PCRE2_UTF | PCRE2_UCP, &errorCode,
                                   &errorOffset, nullptr);
  if (code == nullptr) {
    throw Error(ErrorKind::Format, context + ": cannot compile regex \"" + expression +
                                       "\" at offset " + std::to_string(errorOffset) + ": " +
                                       pcre2Message(errorCode));
  }
  // JIT is an optimisation only: when it is unavailable the interpreter gives the same matches.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto compiled = std::make_shared<Compiled>();
  compiled->code = code;
  compiled->source = expression;
  Pattern p;
  p.regex_ = std::move(compiled);
  return p;
}

Pattern Pattern::fromJson(const nlohmann::json& cfg, const std::string& context) {
  if (cfg.is_object()) {
    if (cfg.contains("String") && cfg["String"].is_string()) {
      return literal(cfg["String"].get<std::string>());
    }
    if (cfg.contains("Regex") && cfg["Regex"].is_string()) {
      return regex(cfg["Regex"].get<std::string>(), context);
    }
  }
  if (cfg.is_string()) return literal(cfg.get<std::string>());
  throw Error(ErrorKind::Format,
              context + ": pattern must be {\"String\": ...} or {\"Regex\": ...}, got " + cfg.dump());
}

std::vector<std::pair<size_t, size_t>> Pattern::findAll(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> matches;
  if (!regex_) {
    if (literal_.empty()) return matches;
    for (size_t pos = text.find(literal_); pos != std::string_view::npos;
         pos = text.find(literal_, pos + literal_.size())) {
      matches.emplace_back(pos, pos + literal_.size());
    }
    return matches;
  }

  pcre2_match_data* data = pcre2_match_data_create_from_pattern(regex_->code, nullptr);
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  size_t lastMatchEnd = std::string_view::npos;
  uint32_t options = PCRE2_NO_UTF_CHECK;  // callers pass valid UTF-8
  while (pos <= text.size()) {
    int rc = pcre2_match(regex_->code, subject, text.size(), pos, options, data, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !(options & PCRE2_NO_JIT)) {
      options |= PCRE2_NO_JIT;  // deep backtracking on a huge input: fall back to the interpreter
      continue;
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(data);
      throw Error(ErrorKind::Unsupported, "regex \"" + regex_->source +
                                              "\" failed on the input: " + pcre2Message(rc));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
    const size_t begin = ov[0], end = ov[1];
    if (begin == end && end == lastMatchEnd) {
      // Rust's find_iter never reports an empty match that touches the previous match.
      if (pos >= text.size()) break;
      pos += utf8SequenceLength(static_cast<unsigned char>(text[pos]));
      continue;
    }
    matches.emplace_back(begin, end);
    lastMatchEnd = end;
    pos = end;
  }
  pcre2_match_data_free(data);
  return matches;
}

std::string Pattern::replaceAll(std::string_view text, std::string_view replacement) const {
  std::string out;
  out.reserve(text.size());
  size_t prev = 0;
  for (const auto& [begin, end] : findAll(text)) {
    out.append(text.substr(prev, begin - prev));
    out.append(replacement);
    prev = end;
  }
  out.append(text.substr(prev));
  return out;
}

}  // namespace moe::text
