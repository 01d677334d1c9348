#pragma once
// Fingerprints that tie an analysis to the exact model and calibration tokens it was computed
// from (64-bit FNV-1a, hex). They detect accidents (a fine-tune saved over the folder, other
// calibration settings), not tampering.
//
// A model folder is summarised by a manifest: the bytes of config.json and, per safetensors file,
// its size, modification time, header (names, dtypes, shapes, offsets) and a fixed, bounded sample
// of every tensor's bytes (64 bytes at its start and 64 at its middle: at most two pages read per
// tensor, so a 100 GB checkpoint is summarised in well under a second from a warm cache). The
// model fingerprint is the hash of the manifest; the store keeps the manifest too, so a stale
// store can say which file changed and how.
#include <cstdint>
#include <nlohmann/json.hpp>
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

// {"config": hash, "files": [{"name", "size", "mtime", "header", "sample"}, ...]} in the store's
// file order. Throws Io when config.json or a shard cannot be read.
nlohmann::json modelManifest(const std::string& modelDir, const TensorStore& store);
std::string manifestFingerprint(const nlohmann::json& manifest);
// manifestFingerprint(modelManifest(modelDir, store)).
std::string modelFingerprint(const std::string& modelDir, const TensorStore& store);
// What differs between two manifests, for a message ("model-00002-of-00003.safetensors: tensor
// bytes changed; config.json changed"); empty when they agree. A null `before` (a store written
// before manifests existed) is reported as such.
std::string describeModelChange(const nlohmann::json& before, const nlohmann::json& after);

// The token ids together with their [sequences, length] shape: 32 x 256 and 64 x 128 of the same
// tokens are different calibrations.
std::string tokensFingerprint(const std::vector<int64_t>& ids, const std::vector<int64_t>& shape);

}  // namespace moe
