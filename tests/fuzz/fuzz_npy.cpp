// A .npy token-id file (core/text/npy.cpp). Invariant on an accepted file: the ids are exactly
// product(shape) non-negative values, which the file had room for.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/text/npy.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = moe::fuzz::writeScratch("ids.npy", data, size);
  try {
    const moe::NpyTokenIds npy = moe::readNpyTokenIds(path);
    size_t count = 1;
    for (size_t d : npy.shape) count *= d;  // bounded by the reader: cannot overflow here
    FUZZ_CHECK(npy.shape.size() == 1 || npy.shape.size() == 2);
    FUZZ_CHECK(npy.ids.size() == count);
    FUZZ_CHECK(npy.ids.size() <= size);
    for (moe::TokenId id : npy.ids) FUZZ_CHECK(id >= 0);
  } catch (const moe::Error&) {
  }
  return 0;
}
