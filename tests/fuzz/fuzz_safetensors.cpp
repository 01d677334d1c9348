// A .safetensors file: header parsing, offsets, sizes, overlap checks (core/model/safetensors.cpp).
// Invariants on an accepted file: every tensor's bytes lie inside the file and match dtype x shape.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/model/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = moe::fuzz::writeScratch("model.safetensors", data, size);
  try {
    moe::SafetensorsFile file(path);
    for (const auto& [name, info] : file.tensors()) {
      FUZZ_CHECK(info.nbytes == static_cast<size_t>(info.numel()) * moe::dtypeSize(info.dtype));
      FUZZ_CHECK(info.nbytes <= size);
      if (info.nbytes > 0) {
        // Touch the first and last byte: ASan does not see the mapping, but a wrong range faults.
        volatile uint8_t first = info.data[0], last = info.data[info.nbytes - 1];
        (void)first;
        (void)last;
      }
    }
  } catch (const moe::Error&) {
  }
  return 0;
}
