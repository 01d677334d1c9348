#include "core/analysis/fingerprint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/model/safetensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

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

namespace {

constexpr size_t kSampleBytes = 64;

std::string fileBytesHash(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Io, path.string() + ": cannot read (needed for the model fingerprint)");
  std::stringstream ss;
  ss << in.rdbuf();
  Fingerprint f;
  f.add(ss.str());
  return f.hex();
}

// Fixed windows of every tensor's bytes: a fine-tune changes (nearly) every element, so a window
// at the start and one at the middle of each tensor catch it without reading the checkpoint.
std::string tensorSampleHash(const SafetensorsFile& file) {
  Fingerprint f;
  for (const auto& [name, t] : file.tensors()) {
    f.add(name);
    if (!t.data || t.nbytes == 0) continue;
    const size_t n = std::min(kSampleBytes, t.nbytes);
    f.add(t.data, n);
    const size_t mid = std::min(t.nbytes / 2, t.nbytes - n);
    f.add(t.data + mid, n);
  }
  return f.hex();
}

// Nanoseconds (or whatever tick the file clock has) since its epoch: compared for equality only.
int64_t modificationTime(const fs::path& path) {
  std::error_code ec;
  const auto t = fs::last_write_time(path, ec);
  if (ec) throw Error(ErrorKind::Io, path.string() + ": cannot read its modification time: " + ec.message());
  return static_cast<int64_t>(t.time_since_epoch().count());
}

const json* findFile(const json& files, const std::string& name) {
  for (const auto& f : files)
    if (f.is_object() && f.value("name", "") == name) return &f;
  return nullptr;
}

std::string field(const json& o, const char* key) { return o.contains(key) ? o[key].dump() : "none"; }

}  // namespace

json modelManifest(const std::string& modelDir, const TensorStore& store) {
  json m = {{"config", fileBytesHash(fs::path(modelDir) / "config.json")}, {"files", json::array()}};
  for (const auto& file : store.files()) {
    const fs::path path(file->path());
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) throw Error(ErrorKind::Io, path.string() + ": cannot read its size: " + ec.message());
    Fingerprint header;
    header.add(file->headerJson());
    m["files"].push_back({{"name", path.filename().string()},
                          {"size", static_cast<int64_t>(size)},
                          {"mtime", modificationTime(path)},
                          {"header", header.hex()},
                          {"sample", tensorSampleHash(*file)}});
  }
  return m;
}

std::string manifestFingerprint(const json& manifest) {
  Fingerprint f;
  f.add(manifest.dump(-1, ' ', false, json::error_handler_t::replace));
  return f.hex();
}

std::string modelFingerprint(const std::string& modelDir, const TensorStore& store) {
  return manifestFingerprint(modelManifest(modelDir, store));
}

std::string describeModelChange(const json& before, const json& after) {
  if (before == after) return "";
  if (!before.is_object() || !before.contains("files") || !before["files"].is_array())
    return "the store predates per-file model fingerprints (written by an older MoEScope), so it cannot be trusted";
  std::vector<std::string> changes;
  if (field(before, "config") != field(after, "config")) changes.push_back("config.json changed");
  const json none = json::array();
  const json& was = before["files"];
  const json& now = after.contains("files") && after["files"].is_array() ? after["files"] : none;
  for (const auto& f : now) {
    const std::string name = f.value("name", "");
    const json* old = findFile(was, name);
    if (!old) {
      changes.push_back(name + " was added");
      continue;
    }
    if (field(*old, "size") != field(f, "size"))
      changes.push_back(name + ": size " + field(*old, "size") + " -> " + field(f, "size") + " bytes");
    else if (field(*old, "header") != field(f, "header"))
      changes.push_back(name + ": tensor names, dtypes, shapes or offsets changed");
    else if (field(*old, "sample") != field(f, "sample"))
      changes.push_back(name + ": tensor bytes changed (same layout: weights were rewritten, e.g. a fine-tune)");
    else if (field(*old, "mtime") != field(f, "mtime"))
      changes.push_back(name + ": modified since the analysis (modification time changed)");
  }
  for (const auto& f : was)
    if (f.is_object() && !findFile(now, f.value("name", ""))) changes.push_back(f.value("name", "?") + " was removed");
  if (changes.empty()) return "the model fingerprint differs";
  std::string out;
  for (const auto& c : changes) out += (out.empty() ? "" : "; ") + c;
  return out;
}

std::string tokensFingerprint(const std::vector<int64_t>& ids, const std::vector<int64_t>& shape) {
  Fingerprint f;
  const int64_t rank = static_cast<int64_t>(shape.size());
  f.add(&rank, sizeof rank);
  f.add(shape.data(), shape.size() * sizeof(int64_t));
  f.add(ids.data(), ids.size() * sizeof(int64_t));
  return f.hex();
}

}  // namespace moe
