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

// Hugging Face compiles these regexes with Oniguruma. PCRE2 shares the syntax tokenizer.json
// files use (\p{..}, (?i:..), lookahead, classes) but differs in a few escapes, rewritten here:
//  - \uHHHH is spelled \x{HHHH};
//  - Oniguruma's \s is exactly [\t-\r\x{85}\p{Z}] (PCRE2 also matches U+180E);
//  - Oniguruma's \w is [\p{L}\p{M}\p{Nd}\p{Pc}] (PCRE2 10.42 has no marks but all numbers).
// \S and \W inside a character class cannot be expanded and keep PCRE2's meaning.
std::string translateOnigEscapes(const std::string& re) {
  static const std::string kSpace = "\\t-\\r\\x{85}\\p{Z}";
  static const std::string kWord = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";
  std::string out;
  out.reserve(re.size());
  int classDepth = 0;  // > 0 inside [...] (Oniguruma allows nested sets)
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c != '\\' || i + 1 >= re.size()) {
      if (c == '[') {
        out += c;
        ++classDepth;
        // A ']' right after '[' or '[^' is a literal member, not the end of the class.
        if (i + 1 < re.size() && re[i + 1] == '^') out += re[++i];
        if (i + 1 < re.size() && re[i + 1] == ']') out += re[++i];
        continue;
      }
      if (c == ']' && classDepth > 0) --classDepth;
      out += c;
      continue;
    }
    const char e = re[i + 1];
    ++i;
    if (e == 'u' && i + 4 < re.size() && isHex(re[i + 1]) && isHex(re[i + 2]) && isHex(re[i + 3]) &&
        isHex(re[i + 4])) {
      out += "\\x{" + re.substr(i + 1, 4) + "}";
      i += 4;
    } else if (e == 's' || e == 'w') {
      const std::string& members = e == 's' ? kSpace : kWord;
      out += classDepth > 0 ? members : "[" + members + "]";
    } else if ((e == 'S' || e == 'W') && classDepth == 0) {
      out += "[^" + (e == 'S' ? kSpace : kWord) + "]";
    } else {
      out += '\\';
      out += e;  // any other escape (including an escaped backslash or bracket) stays as is
    }
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
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                    // \C matches a single code unit and can split a UTF-8 character, handing invalid
                    // UTF-8 to the next stage, which matches with PCRE2_NO_UTF_CHECK: forbid it.
                    PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C, &errorCode, &errorOffset, nullptr);
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
  throw Error(
      ErrorKind::Format,
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
      throw Error(ErrorKind::Unsupported,
                  "regex \"" + regex_->source + "\" failed on the input: " + pcre2Message(rc));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
    const size_t begin = ov[0], end = ov[1];
    if (begin > end || end > text.size()) {  // \K tricks; never a valid split
      pcre2_match_data_free(data);
      throw Error(ErrorKind::Unsupported, "regex \"" + regex_->source + "\" reports a match that ends before it starts");
    }
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
