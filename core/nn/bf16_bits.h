#pragma once
// A bf16 value as raw bits: the upper 16 bits of the fp32 with the same value, so widening is a
// shift (the hand-written kernels read bf16 weights as uint16_t).
#include <cstdint>
#include <cstring>

namespace moe {

inline float bf16ToFloat(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace moe
