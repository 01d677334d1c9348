// A sharded checkpoint folder: model.safetensors.index.json (the input) naming shards that exist
// (two small valid shards written once) or not, through TensorStore::openFolder.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/model/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

void writeShards(const std::string& dir) {
  auto blob = [](const std::string& name, std::vector<int64_t> shape) {
    moe::TensorBlob b;
    b.name = name;
    b.shape = std::move(shape);
    int64_t n = 1;
    for (int64_t d : b.shape) n *= d;
    b.bytes.assign(static_cast<size_t>(n) * 4, 0x3f);
    return b;
  };
  const moe::TensorBlob a = blob("a", {2, 3}), b = blob("b", {4}), c = blob("c", {1, 1, 2});
  moe::writeSafetensors(dir + "/model-00001-of-00002.safetensors", {&a, &b});
  moe::writeSafetensors(dir + "/model-00002-of-00002.safetensors", {&c});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string d = moe::fuzz::scratchDir() + "/model";
    std::filesystem::create_directories(d);
    writeShards(d);
    return d;
  }();
  moe::fuzz::writeScratch("model/model.safetensors.index.json", data, size);
  try {
    auto store = moe::TensorStore::openFolder(dir);
    for (const auto& name : store->names()) FUZZ_CHECK(store->get(name).nbytes <= 64);
  } catch (const moe::Error&) {
  }
  return 0;
}
