#include "core/text/utf8.h"

#include <array>

#include <utf8proc.h>

namespace moe::text {

size_t utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

char32_t decodeUtf8At(std::string_view s, size_t i, size_t* len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t n = utf8SequenceLength(b0);
  if (i + n > s.size()) n = 1;
  *len = n;
  if (n == 1) return b0;
  char32_t cp = b0 & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 with *consumed set to the length of the
// maximal invalid prefix (Unicode "maximal subpart" rule, as used by Rust and WHATWG).
size_t validSequenceAt(std::string_view s, size_t i, size_t* consumed) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return 1;
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF)
    need = 1;
  else if (b == 0xE0) {
    need = 2;
    lo = 0xA0;
  } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF)
    need = 2;
  else if (b == 0xED) {
    need = 2;
    hi = 0x9F;
  }  // no UTF-16 surrogates
  else if (b == 0xF0) {
    need = 3;
    lo = 0x90;
  } else if (b >= 0xF1 && b <= 0xF3)
    need = 3;
  else if (b == 0xF4) {
    need = 3;
    hi = 0x8F;
  }  // nothing above U+10FFFF
  else {
    *consumed = 1;
    return 0;
  }
  size_t j = i + 1, k = 0;
  while (k < need && j < s.size()) {
    const auto c = static_cast<unsigned char>(s[j]);
    const bool ok = (k == 0) ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
    if (!ok) break;
    ++j;
    ++k;
  }
  if (k == need) return need + 1;
  *consumed = j - i;
  return 0;
}

}  // namespace

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t consumed = 0;
    const size_t n = validSequenceAt(s, i, &consumed);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string toValidUtf8(std::string_view s) {
  if (isValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    size_t consumed = 0;
    const size_t n = validSequenceAt(s, i, &consumed);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      appendUtf8(out, 0xFFFD);
      i += consumed;
    }
  }
  return out;
}

bool isUnicodeWhitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool isUnicodeNumeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}

bool isWordChar(char32_t c) {
  if (c < 0x80) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

namespace {

struct ByteLevelTables {
  std::array<std::string, 256> chars;
  std::array<char32_t, 256> codePoints{};
  ByteLevelTables() {
    // Printable Latin-1 bytes stand for themselves; the rest (controls, space, NBSP, soft
    // hyphen) are moved, in byte order, to U+0100 onwards.
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      codePoints[b] = printable ? static_cast<char32_t>(b) : next++;
      appendUtf8(chars[b], codePoints[b]);
    }
  }
};

const ByteLevelTables& byteLevelTables() {
  static const ByteLevelTables tables;
  return tables;
}

}  // namespace

const std::string& byteLevelChar(uint8_t b) { return byteLevelTables().chars[b]; }

int byteLevelByte(char32_t cp) {
  if (cp < 256) {
    const bool printable = (cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174);
    return printable ? static_cast<int>(cp) : -1;
  }
  const auto& cps = byteLevelTables().codePoints;
  if (cp > 256 + 68) return -1;  // 68 bytes are remapped: U+0100..U+0143
  for (int b = 0; b < 256; ++b) {
    if (cps[b] == cp) return b;
  }
  return -1;
}

}  // namespace moe::text
