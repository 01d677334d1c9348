// Hostile inputs to the checkpoint, config and plan readers (issue 9): sizes read from a file are
// bounded (core/limits.h) before anything is allocated, integer arithmetic on them is checked, and
// every reader throws only moe::Error naming the file. Each case is an input fuzzing found (their
// regression inputs also live in tests/fuzz/corpus/). Torch-free: only the readers are exercised.
#include "tests/catch.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "core/merge/plan.h"
#include "core/model/config.h"
#include "core/model/safetensors.h"
#include "core/nn/functional.h"

namespace fs = std::filesystem;
using moe::ErrorKind;
using moe::test::Contains;
using nlohmann::json;

namespace {

const fs::path kTiny = fs::path(MOESCOPE_TEST_DATA) / "hf-tiny";

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = fs::temp_directory_path() / ("moescope-test-hardening-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(stamp) + "-" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream out(path / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out);
    return (path / name).string();
  }
};

// Runs fn, requires a moe::Error of `kind`; any other exception fails the test. Returns the message.
template <typename Fn>
std::string errorOf(Fn&& fn, ErrorKind kind) {
  try {
    fn();
  } catch (const moe::Error& e) {
    INFO(e.what());
    CHECK(e.kind() == kind);
    return e.what();
  }
  FAIL("no moe::Error was thrown");
  return {};
}

json mixtralConfig() {
  std::ifstream in(kTiny / "mixtral" / "config.json");
  REQUIRE(in);
  return json::parse(in);
}

// A safetensors file: 8-byte little-endian header length, header JSON, data.
std::string safetensors(const json& header, const std::string& data = "") {
  const std::string h = header.dump();
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + h + data;
}

}  // namespace

TEST_CASE("config.json: integers beyond the supported range are refused, not cast", "[hardening][config]") {
  json cfg = mixtralConfig();
  SECTION("3.3e19 where an integer is expected (was undefined behaviour in getInt)") {
    cfg["hidden_size"] = 3.3e19;
    const std::string msg = errorOf([&] { moe::ModelConfig::fromJson(cfg, "cfg.json"); }, ErrorKind::Config);
    CHECK_THAT(msg, Contains("cfg.json"));
    CHECK_THAT(msg, Contains("'hidden_size'"));
    CHECK_THAT(msg, Contains("outside the supported range"));
  }
  SECTION("2^64 - 1 (read as -1 before)") {
    cfg["vocab_size"] = UINT64_MAX;
    const std::string msg = errorOf([&] { moe::ModelConfig::fromJson(cfg, "cfg.json"); }, ErrorKind::Config);
    CHECK_THAT(msg, Contains("'vocab_size'"));
    CHECK_THAT(msg, Contains("outside the supported range"));
  }
  SECTION("an integral float inside the range is still accepted") {
    cfg["hidden_size"] = 64.0;
    CHECK(moe::ModelConfig::fromJson(cfg, "cfg.json").hiddenSize == 64);
  }
}

TEST_CASE("config.json: layer, expert and vocabulary counts are bounded", "[hardening][config]") {
  json cfg = mixtralConfig();
  SECTION("num_local_experts = 1e9 (the loader allocated > 4 GB)") {
    cfg["num_local_experts"] = 1000000000;
    const std::string msg = errorOf([&] { moe::ModelConfig::fromJson(cfg, "cfg.json"); }, ErrorKind::Config);
    CHECK_THAT(msg, Contains("num_local_experts is 1000000000"));
    CHECK_THAT(msg, Contains("limit of 1048576"));
  }
  SECTION("num_hidden_layers = 2e8 (hung) and 3e9 (overflowed an int counter)") {
    for (int64_t layers : {int64_t{200000000}, int64_t{3000000000}}) {
      cfg["num_hidden_layers"] = layers;
      const std::string msg = errorOf([&] { moe::ModelConfig::fromJson(cfg, "cfg.json"); }, ErrorKind::Config);
      CHECK_THAT(msg, Contains("num_hidden_layers"));
    }
  }
  SECTION("vocab_size above 16 M") {
    cfg["vocab_size"] = (1 << 24) + 1;
    const std::string msg = errorOf([&] { moe::ModelConfig::fromJson(cfg, "cfg.json"); }, ErrorKind::Config);
    CHECK_THAT(msg, Contains("vocab_size is 16777217"));
  }
  SECTION("head_dim 2^30 (the rope table for it needs gigabytes)") {
    cfg["head_dim"] = 1 << 30;
    const std::string msg = errorOf([&] { moe::ModelConfig::fromJson(cfg, "cfg.json"); }, ErrorKind::Config);
    CHECK_THAT(msg, Contains("head_dim is 1073741824"));
  }
  SECTION("the bounds themselves are accepted") {
    cfg["num_hidden_layers"] = 10000;
    cfg["num_local_experts"] = 1 << 20;
    cfg["vocab_size"] = 1 << 24;
    CHECK(moe::ModelConfig::fromJson(cfg, "cfg.json").numLayers == 10000);
  }
}

TEST_CASE("safetensors: element and byte counts cannot overflow into acceptance", "[hardening][safetensors]") {
  TempDir dir;
  SECTION("shape [2^32, 2^32]: numel overflows int64") {
    const std::string path = dir.write("a.safetensors", safetensors({{"t", {{"dtype", "F32"},
                                                                              {"shape", {4294967296ull, 4294967296ull}},
                                                                              {"data_offsets", {0, 0}}}}}));
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(path); }, ErrorKind::Format);
    CHECK_THAT(msg, Contains(path));
    CHECK_THAT(msg, Contains("overflows"));
  }
  SECTION("shape [2^62] in F32: the byte count wrapped to 0 and 0 bytes were accepted") {
    const std::string path = dir.write("b.safetensors", safetensors({{"t", {{"dtype", "F32"},
                                                                              {"shape", {uint64_t{1} << 62}},
                                                                              {"data_offsets", {0, 0}}}}}));
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(path); }, ErrorKind::Format);
    CHECK_THAT(msg, Contains("tensor 't'"));
    CHECK_THAT(msg, Contains("overflows"));
  }
  SECTION("a well-formed tensor next to them still loads") {
    const std::string path = dir.write("c.safetensors", safetensors({{"t", {{"dtype", "F32"},
                                                                              {"shape", {2, 1}},
                                                                              {"data_offsets", {0, 8}}}}},
                                                                     std::string(8, '\0')));
    CHECK(moe::SafetensorsFile(path).tensors().at("t").numel() == 2);
  }
}

TEST_CASE("safetensors: the header is capped at 100 MB like the reference implementation", "[hardening][safetensors]") {
  TempDir dir;
  // A sparse file: the claimed header (100 MB + 1) fits in the file, so only the cap refuses it.
  std::string bytes(8, '\0');
  const uint64_t claimed = 100000001;
  for (int i = 0; i < 8; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>((claimed >> (8 * i)) & 0xff);
  const std::string path = dir.write("big.safetensors", bytes + "{}");
  fs::resize_file(path, 8 + claimed + 16);
  const std::string msg = errorOf([&] { moe::SafetensorsFile f(path); }, ErrorKind::Format);
  CHECK_THAT(msg, Contains("header length 100000001 exceeds the limit of 100000000 bytes"));
}

TEST_CASE("sharded index: shard names must be plain files of the folder", "[hardening][safetensors]") {
  TempDir dir;
  moe::TensorBlob a{"a", moe::DType::F32, {1}, std::vector<uint8_t>(4, 0)};
  moe::writeSafetensors((dir.path / "model-00001.safetensors").string(), {&a});
  for (const char* shard : {".", ""}) {
    INFO("shard name '" << shard << "'");
    dir.write("model.safetensors.index.json", json{{"weight_map", {{"a", shard}}}}.dump());
    const std::string msg = errorOf([&] { moe::TensorStore::openFolder(dir.path.string()); }, ErrorKind::Format);
    CHECK_THAT(msg, Contains("model.safetensors.index.json"));
    CHECK_THAT(msg, Contains("leaves the model folder"));
  }
  dir.write("model.safetensors.index.json", json{{"weight_map", {{"a", "model-00001.safetensors"}}}}.dump());
  CHECK(moe::TensorStore::openFolder(dir.path.string())->has("a"));
}

TEST_CASE("merge plan: 64-bit values are not narrowed into valid ones", "[hardening][plan]") {
  const json valid = {{"moescope_merge_plan", 1},
                      {"model_fingerprint", "fp"},
                      {"layers", {{{"moe_index", 0}, {"num_experts", 2}, {"strategy", "average"}, {"groups", {0, 0}}}}}};
  REQUIRE(moe::MergePlan::fromJson(valid, "plan.json").layers.size() == 1);
  SECTION("version 4294967297 was read as 1") {
    json j = valid;
    j["moescope_merge_plan"] = 4294967297ull;
    const std::string msg = errorOf([&] { moe::MergePlan::fromJson(j, "plan.json"); }, ErrorKind::Format);
    CHECK_THAT(msg, Contains("plan.json"));
    CHECK_THAT(msg, Contains("version 4294967297"));
  }
  SECTION("moe_index 2^32 became block 0") {
    json j = valid;
    j["layers"][0]["moe_index"] = 4294967296ull;
    const std::string msg = errorOf([&] { moe::MergePlan::fromJson(j, "plan.json"); }, ErrorKind::Format);
    CHECK_THAT(msg, Contains("'moe_index' holds 4294967296"));
  }
  SECTION("group label 2^63 - 1 overflowed label + 1") {
    json j = valid;
    j["layers"][0]["groups"] = {INT64_MAX, 0};
    const std::string msg = errorOf([&] { moe::MergePlan::fromJson(j, "plan.json"); }, ErrorKind::Format);
    CHECK_THAT(msg, Contains("'groups' holds 9223372036854775807"));
  }
  SECTION("the same label built in code is refused by validation, without overflow") {
    errorOf([&] { moe::mergeLayerPlan(0, {INT64_MAX, 0}, moe::MergeStrategy::Average); }, ErrorKind::InvalidArgument);
  }
}

TEST_CASE("rotary tables: an odd rotary width is a config error, not a torch shape error", "[hardening][rope]") {
  // Found by fuzz_config: gpt-oss's YaRN rope with head_dim 17 (tests/fuzz/corpus/fuzz_config/regress-yarn-odd-head-dim.json).
  moe::Runtime rt;
  for (const char* type : {"default", "yarn", "linear"}) {
    moe::RopeConfig rope;
    rope.type = type;
    rope.params = {{"rope_type", type}, {"factor", 4.0}, {"original_max_position_embeddings", 64}};
    CHECK_THROWS_AS(moe::makeRopeTable(rope, 17, 256, 8, rt), moe::Error);
    CHECK_THROWS_WITH(moe::makeRopeTable(rope, 17, 256, 8, rt), moe::test::Contains("positive even"));
    CHECK_NOTHROW(moe::makeRopeTable(rope, 16, 256, 8, rt));
  }
}
