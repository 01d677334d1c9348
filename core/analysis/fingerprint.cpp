#include "core/analysis/fingerprint.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/model/safetensors.h"

namespace moe {

void Fingerprint::add(const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < bytes; ++i) {
    h_ ^= p[i];
    h_ *= 1099511628211ull;
  }
}

std::string Fingerprint::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
  return buf;
}

std::string modelFingerprint(const std::string& modelDir, const TensorStore& store) {
  Fingerprint f;
  std::ifstream in(std::filesystem::path(modelDir) / "config.json", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  f.add(ss.str());
  for (const auto& file : store.files()) f.add(file->headerJson());
  return f.hex();
}

std::string tokensFingerprint(const std::vector<int64_t>& ids) {
  Fingerprint f;
  f.add(ids.data(), ids.size() * sizeof(int64_t));
  return f.hex();
}

}  // namespace moe
