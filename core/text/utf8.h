#pragma once
// Small UTF-8 and Unicode helpers shared by the tokenizer stages. Internal to moescope_text.
//
// Hugging Face tokenizers work on Rust `str`, which is always valid UTF-8; every helper here
// that takes "valid" text relies on the caller having passed it through toValidUtf8 first.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace moe::text {

// Byte length of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
size_t utf8SequenceLength(unsigned char lead);

// Decodes the code point at byte offset i of valid UTF-8; *len receives its byte length.
char32_t decodeUtf8At(std::string_view s, size_t i, size_t* len);

void appendUtf8(std::string& out, char32_t cp);

bool isValidUtf8(std::string_view s);

// Replaces every maximal invalid subsequence by U+FFFD, exactly like Rust's
// String::from_utf8_lossy (which the byte-level decoder of Hugging Face uses).
std::string toValidUtf8(std::string_view s);

// Rust char::is_whitespace (the Unicode White_Space property).
bool isUnicodeWhitespace(char32_t c);
// Rust char::is_numeric (general categories Nd, Nl, No).
bool isUnicodeNumeric(char32_t c);
// Approximation of a regex `\w` character: letters, marks, numbers, connector punctuation.
bool isWordChar(char32_t c);

// The GPT-2 byte-level alphabet: every byte is shown as a printable code point so that BPE
// vocabularies can be stored as text. byteLevelChar(b) is the UTF-8 of that code point.
const std::string& byteLevelChar(uint8_t b);
// Inverse mapping; returns -1 for code points outside the alphabet.
int byteLevelByte(char32_t cp);

}  // namespace moe::text
