#pragma once
// Every bound MoEScope puts on a size it reads from a file, in one place. A reader checks a size
// against these (and against the file's own size: a file cannot hold more elements than it has
// bytes) BEFORE allocating or looping over anything, so a corrupt or hostile file ends in a
// moe::Error instead of an out-of-memory kill, a hang or integer overflow. The bounds are far above
// every real checkpoint (DeepSeek-V3: 61 layers, 256 experts, 129 k vocabulary) and far below what
// would exhaust a machine. Arithmetic on sizes goes through checkedMul / checkedAdd.
#include <cstdint>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/error.h"

namespace moe::limits {

// config.json
constexpr int64_t kMaxLayers = 10'000;              // num_hidden_layers
constexpr int64_t kMaxExperts = 1 << 20;            // experts per MoE layer (1 M)
constexpr int64_t kMaxVocab = 1 << 24;              // vocab_size and tokenizer vocabularies (16 M)
constexpr int64_t kMaxWidth = 1 << 20;             // hidden/intermediate sizes, head counts and dims
                                                    // (tables such as rope frequencies are sized by them)
constexpr int64_t kMaxConfigInteger = INT32_MAX;    // any integer field of config.json: widths,
                                                    // head counts, windows; products of two fit int64
// safetensors
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;  // bytes; the reference implementation's cap
constexpr int64_t kMaxTensorRank = 64;                   // dimensions of one tensor
// JSON documents read whole (config.json, tokenizer.json, index, plans, generation_config.json)
constexpr uint64_t kMaxJsonFile = 1ull << 30;  // 1 GB; tokenizer.json of a 16 M vocabulary fits
// .npy token files
constexpr uint64_t kMaxNpyHeader = 1 << 20;  // bytes of the header dictionary
// merge plans
constexpr int64_t kMaxPlanVersion = 1'000;

// a * b, or a Format error naming `what` when the product does not fit T.
template <typename T>
T checkedMul(T a, T b, const std::string& what) {
  static_assert(std::is_integral_v<T>);
  T out{};
  if (__builtin_mul_overflow(a, b, &out))
    throw Error(ErrorKind::Format, what + ": size " + std::to_string(a) + " x " + std::to_string(b) + " overflows");
  return out;
}

// a + b, or a Format error naming `what` when the sum does not fit T.
template <typename T>
T checkedAdd(T a, T b, const std::string& what) {
  static_assert(std::is_integral_v<T>);
  T out{};
  if (__builtin_add_overflow(a, b, &out))
    throw Error(ErrorKind::Format, what + ": size " + std::to_string(a) + " + " + std::to_string(b) + " overflows");
  return out;
}

// The product of a shape's dimensions, each required to be >= 0; throws naming `what` on overflow.
template <typename Container>
int64_t checkedNumel(const Container& shape, const std::string& what) {
  int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw Error(ErrorKind::Format, what + ": negative dimension " + std::to_string(d));
    n = checkedMul<int64_t>(n, static_cast<int64_t>(d), what);
  }
  return n;
}

}  // namespace moe::limits

namespace moe {

// Runs a file reader and lets only moe::Error out: a library exception (nlohmann::json, std::
// out_of_range, std::length_error ...) escaping a reader is a bug, but the user still gets a
// Format error naming the file instead of an unexplained abort. Used at each reader's public entry.
template <typename F>
auto readerBoundary(const std::string& file, F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Error(ErrorKind::Format, file + ": not enough memory to read it (a size in the file is implausible?)");
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Format, file + ": malformed content (" + e.what() + ")");
  }
}

}  // namespace moe
