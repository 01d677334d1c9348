// Arbitrary text through the two real tokenizers of tests/data (byte-level BPE and Metaspace with
// byte fallback): encode, decode, and decode of arbitrary ids. Invariant: ids below vocabSize().
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/text/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

namespace {
const moe::Tokenizer& tokenizer(const char* name) {
  static const moe::Tokenizer byteLevel = moe::Tokenizer::fromFile(MOESCOPE_TEST_DATA "/tokenizers/bytelevel/tokenizer.json");
  static const moe::Tokenizer metaspace = moe::Tokenizer::fromFile(MOESCOPE_TEST_DATA "/tokenizers/metaspace/tokenizer.json");
  return std::strcmp(name, "bytelevel") == 0 ? byteLevel : metaspace;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char* name : {"bytelevel", "metaspace"}) {
    const moe::Tokenizer& tok = tokenizer(name);
    try {
      const auto ids = tok.encode(text);
      for (moe::TokenId id : ids) FUZZ_CHECK(id >= 0 && static_cast<size_t>(id) < tok.vocabSize());
      (void)tok.decode(ids);
      // The input's bytes read as ids, valid or not.
      std::vector<moe::TokenId> raw(size / 4);
      if (!raw.empty()) std::memcpy(raw.data(), data, raw.size() * 4);
      (void)tok.decode(raw, /*skipSpecialTokens=*/true);
    } catch (const moe::Error&) {
    }
  }
  return 0;
}
