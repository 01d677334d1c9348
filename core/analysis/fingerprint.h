#pragma once
// Fingerprints that tie an analysis to the exact model and calibration tokens it was computed
// from (64-bit FNV-1a, hex): a changed config, shard header or token id makes a store stale.
// They detect accidents, not tampering.
#include <cstdint>
#include <string>
#include <vector>

namespace moe {

class TensorStore;

class Fingerprint {
 public:
  void add(const void* data, size_t bytes);
  void add(const std::string& s) { add(s.data(), s.size()); }
  std::string hex() const;

 private:
  uint64_t h_ = 1469598103934665603ull;
};

// config.json bytes + every shard's safetensors header (names, dtypes, shapes, offsets).
std::string modelFingerprint(const std::string& modelDir, const TensorStore& store);
std::string tokensFingerprint(const std::vector<int64_t>& ids);

}  // namespace moe
