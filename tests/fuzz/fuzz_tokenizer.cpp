// tokenizer.json loading (core/text: model, normalizers, pre-tokenizers, patterns, decoders, added
// tokens), then encode/decode of a few fixed texts with whatever loaded. Invariant: every id that
// encode() returns is below vocabSize().
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/text/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  try {
    const moe::Tokenizer tok = moe::Tokenizer::fromJson(json, "fuzz tokenizer.json");
    for (const char* text : {"Hello world", " 12 345  \n\tabc", "\xc3\xa9t\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
                             "<|endoftext|><s></s>", "\xff\xfe bad utf8 \xc3"}) {
      const auto ids = tok.encode(text);
      for (moe::TokenId id : ids) FUZZ_CHECK(id >= 0 && static_cast<size_t>(id) < tok.vocabSize());
      (void)tok.decode(ids);
      (void)tok.decode(ids, /*skipSpecialTokens=*/true);
    }
    (void)tok.decode({0, 1, 2, -1, 2147483647});
  } catch (const moe::Error&) {
  }
  return 0;
}
