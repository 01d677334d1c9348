// Checkpoint loading: safetensors validation, sharded folders, config.json parsing and the error
// each kind of damage produces. Every test copies a fixture into its own temporary folder and
// corrupts the copy; the fixtures themselves are never written.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include "tests/catch_torch.h"
#include <chrono>
#include <ctime>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/arch/architecture.h"
#include "core/engine/model.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/model/config.h"
#include "core/model/safetensors.h"
#include "core/nn/runtime.h"

namespace fs = std::filesystem;
using moe::test::Contains;
using nlohmann::json;

namespace {

const fs::path kTiny = fs::path(MOESCOPE_TEST_DATA) / "hf-tiny";
// deepseek_v3 is left out on purpose: its architecture is still being written.
const std::vector<std::string> kArchs{"mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "granitemoe", "gpt_oss"};

// A fresh folder under the system temp dir, removed with everything in it on scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = fs::temp_directory_path() /
           ("moescope-test-loading-" + std::to_string(::getpid()) + "-" + std::to_string(stamp) + "-" +
            std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path.string(); }
  fs::path operator/(const std::string& name) const { return path / name; }
};

std::string readBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void writeBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  REQUIRE(out);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out);
}

// A safetensors file split into its parts: 8-byte little-endian header length, JSON, data.
struct RawSafetensors {
  json header;
  std::string data;
};

uint64_t headerLength(const std::string& bytes) {
  REQUIRE(bytes.size() >= 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  return n;
}

std::string lengthPrefix(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

RawSafetensors readRaw(const fs::path& p) {
  const std::string bytes = readBytes(p);
  const uint64_t n = headerLength(bytes);
  REQUIRE(8 + n <= bytes.size());
  RawSafetensors raw;
  raw.header = json::parse(bytes.substr(8, n));
  raw.data = bytes.substr(8 + n);
  return raw;
}

// Writes a header string as is (padded with spaces to 8 bytes, as safetensors does) plus data.
void writeRawHeader(const fs::path& p, std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  writeBytes(p, lengthPrefix(header.size()) + header + data);
}

void writeRaw(const fs::path& p, const RawSafetensors& raw) { writeRawHeader(p, raw.header.dump(), raw.data); }

// Copies config.json and model.safetensors of a fixture into `dst`.
void copyFixture(const std::string& arch, const fs::path& dst) {
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(kTiny / arch / f, dst / f, fs::copy_options::overwrite_existing);
}

json readJson(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  return json::parse(in);
}

void writeJson(const fs::path& p, const json& j) { writeBytes(p, j.dump(2)); }

// Runs f, which must throw moe::Error of `kind`; returns its message for further checks.
std::string errorOf(const std::function<void()>& f, moe::ErrorKind kind) {
  try {
    f();
  } catch (const moe::Error& e) {
    INFO("message: " << e.what());
    CHECK(moe::errorKindName(e.kind()) == std::string(moe::errorKindName(kind)));
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected moe::Error (" << moe::errorKindName(kind) << "), got another exception: " << e.what());
  }
  FAIL("expected moe::Error (" << moe::errorKindName(kind) << "), nothing was thrown");
  return {};
}

moe::Runtime cpu() { return moe::test::runtime("fp32"); }

at::Tensor sampleIds() { return at::tensor({1, 5, 7, 42, 100, 3, 200, 11}, at::kLong).view({2, 4}); }

// Byte-for-byte and mtime snapshot of every file in a folder.
struct FolderSnapshot {
  std::map<std::string, std::pair<std::string, fs::file_time_type>> files;
  explicit FolderSnapshot(const fs::path& dir) {
    for (auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files[e.path().filename().string()] = {readBytes(e.path()), fs::last_write_time(e.path())};
  }
  bool operator==(const FolderSnapshot& o) const { return files == o.files; }
};

// The tensor of layer 1 whose shape to swap in the shape test: >= 2 dims with differing last two,
// preferring an expert weight.
std::string swappableTensor(const json& header) {
  std::string fallback;
  for (auto& [name, e] : header.items()) {
    if (name == "__metadata__" || name.rfind("model.layers.1.", 0) != 0) continue;
    auto shape = e["shape"].get<std::vector<int64_t>>();
    if (shape.size() < 2 || shape[shape.size() - 1] == shape[shape.size() - 2]) continue;
    if (name.find("expert") != std::string::npos) return name;
    if (fallback.empty()) fallback = name;
  }
  return fallback;
}

const char* kW1 = "model.layers.1.block_sparse_moe.experts.3.w1.weight";
const char* kW3 = "model.layers.1.block_sparse_moe.experts.3.w3.weight";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Safetensors format validation
// ---------------------------------------------------------------------------------------------

TEST_CASE("fixtures open and pass the shape check", "[loading]") {
  for (const auto& arch : kArchs) {
    INFO(arch);
    auto m = moe::Model::open((kTiny / arch).string(), cpu());
    CHECK(!m->store().names().empty());
    CHECK(m->config().modelType == arch);
  }
}

TEST_CASE("truncated safetensors names a tensor whose offsets lie outside the data", "[loading][format]") {
  TempDir tmp;
  copyFixture("mixtral", tmp.path);
  const fs::path file = tmp / "model.safetensors";
  const std::string bytes = readBytes(file);
  const uint64_t n = headerLength(bytes);
  const RawSafetensors raw = readRaw(file);
  const size_t cut = raw.data.size() / 2 + 3;  // in the middle of some tensor
  writeBytes(file, bytes.substr(0, 8 + n + cut));

  // The loader walks the header in name order (nlohmann::json sorts keys), like this loop.
  std::string victim;
  for (auto& [name, e] : raw.header.items())
    if (name != "__metadata__" && e["data_offsets"][1].get<uint64_t>() > cut) {
      victim = name;
      break;
    }
  REQUIRE(!victim.empty());

  std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
  CHECK_THAT(msg, Contains(file.string()));
  CHECK_THAT(msg, Contains("'" + victim + "'"));
  CHECK_THAT(msg, Contains("outside the data region of " + std::to_string(cut) + " bytes"));
  CHECK_THAT(msg, Contains("truncated"));

  // The same error surfaces through the folder store and Model::open.
  msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::Format);
  CHECK_THAT(msg, Contains(victim));
  msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::Format);
  CHECK_THAT(msg, Contains(victim));
}

TEST_CASE("file shorter than 8 bytes", "[loading][format]") {
  TempDir tmp;
  for (size_t len : {0, 1, 5, 7}) {
    INFO("length " << len);
    const fs::path file = tmp / ("short" + std::to_string(len) + ".safetensors");
    writeBytes(file, std::string(len, '\x01'));
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains(file.string()));
    CHECK_THAT(msg, Contains(std::to_string(len) + " bytes"));
    CHECK_THAT(msg, Contains("too short"));
  }
}

TEST_CASE("header length past the end of the file", "[loading][format]") {
  TempDir tmp;
  const fs::path file = tmp / "model.safetensors";
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  SECTION("slightly too long") { writeBytes(file, lengthPrefix(header.size() + 5) + header + "abcd"); }
  SECTION("absurd length (would overflow 8 + n)") { writeBytes(file, lengthPrefix(~uint64_t{0}) + header); }
  SECTION("truncated inside the header of a real file") {
    const std::string bytes = readBytes(kTiny / "mixtral" / "model.safetensors");
    writeBytes(file, bytes.substr(0, 8 + headerLength(bytes) / 2));
  }
  const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
  CHECK_THAT(msg, Contains(file.string()));
  CHECK_THAT(msg, Contains("header length"));
  CHECK_THAT(msg, Contains("past the end of the file"));
}

TEST_CASE("header that is not JSON, or not a JSON object", "[loading][format]") {
  TempDir tmp;
  const fs::path file = tmp / "model.safetensors";
  SECTION("garbage") {
    writeRawHeader(file, "{not json at all", "");
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains(file.string()));
    CHECK_THAT(msg, Contains("not valid JSON"));
  }
  SECTION("a JSON array") {
    writeRawHeader(file, "[1, 2, 3]", "");
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("not a JSON object"));
  }
  SECTION("an entry without data_offsets") {
    writeRawHeader(file, R"({"w":{"dtype":"F32","shape":[1]}})", "abcd");
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("'w'"));
    CHECK_THAT(msg, Contains("data_offsets"));
  }
  SECTION("dtype that is not a string") {
    writeRawHeader(file, R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", "abcd");
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("'w'"));
    CHECK_THAT(msg, Contains("dtype"));
  }
  SECTION("shape that is not a list") {
    writeRawHeader(file, R"({"w":{"dtype":"F32","shape":1,"data_offsets":[0,4]}})", "abcd");
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("'w'"));
    CHECK_THAT(msg, Contains("shape"));
  }
}

TEST_CASE("header entries are read one at a time: unknown fields skipped, metadata kept, bad parts quoted", "[loading][format]") {
  TempDir tmp;
  const fs::path file = tmp / "model.safetensors";
  SECTION("nested unknown fields and metadata values of any type") {
    writeRawHeader(file,
                   R"({"__metadata__":{"format":"pt","n":{"x":[1,2]}},)"
                   R"("w":{"extra":{"a":[1,{"b":[2]}]},"dtype":"F32","shape":[1],"data_offsets":[0,4],"z":[[]]},)"
                   R"("v":{"shape":[2,1],"data_offsets":[4,8],"dtype":"BF16"}})",
                   "abcdefgh");
    const moe::SafetensorsFile f(file.string());
    REQUIRE(f.tensors().size() == 2);
    CHECK(f.tensors().at("w").shape == std::vector<int64_t>{1});
    CHECK(f.tensors().at("w").dtype == moe::DType::F32);
    CHECK(f.tensors().at("v").shape == std::vector<int64_t>{2, 1});
    CHECK(f.tensors().at("v").nbytes == 4);
    CHECK(f.metadata().at("format") == "pt");
    CHECK(f.metadata().at("n") == R"({"x":[1,2]})");
  }
  SECTION("a nested shape is quoted as written") {
    writeRawHeader(file, R"({"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}})", "abcd");
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("'w' has an invalid shape [[1]]"));
  }
  SECTION("a tensor named twice") {
    writeRawHeader(file,
                   R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                   "abcd");
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("'w' appears twice"));
  }
  SECTION("an entry that is a list, and metadata that is not an object") {
    writeRawHeader(file, R"({"w":[{"dtype":"F32"}]})", "abcd");
    CHECK_THAT(errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format),
               Contains("'w' lacks dtype, shape or data_offsets"));
    writeRawHeader(file, R"({"__metadata__":"pt"})", "");
    CHECK_THAT(errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format),
               Contains("__metadata__ is not an object"));
    writeRawHeader(file, R"({"__metadata__":[1]})", "");
    CHECK_THAT(errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format),
               Contains("__metadata__ is not an object"));
  }
  SECTION("a syntax error after valid entries") {
    writeRawHeader(file, R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"v":)", "abcd");
    CHECK_THAT(errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format),
               Contains("not valid JSON"));
  }
}

TEST_CASE("overlapping data_offsets of two tensors", "[loading][format]") {
  TempDir tmp;
  copyFixture("mixtral", tmp.path);
  const fs::path file = tmp / "model.safetensors";
  RawSafetensors raw = readRaw(file);
  const auto a = raw.header[kW1]["data_offsets"].get<std::vector<uint64_t>>();
  const auto b = raw.header[kW3]["data_offsets"].get<std::vector<uint64_t>>();
  REQUIRE(a[1] - a[0] == b[1] - b[0]);  // same size, so only the offsets change
  SECTION("partial overlap") {
    raw.header[kW3]["data_offsets"] = {a[0] + 8, a[1] + 8};
  }
  SECTION("identical ranges") {
    raw.header[kW3]["data_offsets"] = {a[0], a[1]};
  }
  SECTION("overlap hidden behind an empty tensor") {
    // An empty tensor inside w1's range must not hide w3 overlapping w1 after it.
    raw.header["aaa.empty"] = {{"dtype", "F32"}, {"shape", {0}}, {"data_offsets", {a[0] + 16, a[0] + 16}}};
    raw.header[kW3]["data_offsets"] = {a[0] + 32, a[1] + 32};
  }
  writeRaw(file, raw);
  const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
  CHECK_THAT(msg, Contains(file.string()));
  CHECK_THAT(msg, Contains("overlap"));
  CHECK_THAT(msg, Contains(std::string("'") + kW1 + "'"));
  CHECK_THAT(msg, Contains(std::string("'") + kW3 + "'"));
}

TEST_CASE("byte length differs from dtype size x shape", "[loading][format]") {
  TempDir tmp;
  copyFixture("mixtral", tmp.path);
  const fs::path file = tmp / "model.safetensors";
  RawSafetensors raw = readRaw(file);
  REQUIRE(raw.header[kW1]["shape"] == json({96, 64}));
  raw.header[kW1]["shape"] = {95, 64};  // 95*64*2 = 12160 bytes, the range holds 12288
  writeRaw(file, raw);
  const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Format);
  CHECK_THAT(msg, Contains(file.string()));
  CHECK_THAT(msg, Contains(std::string("'") + kW1 + "'"));
  CHECK_THAT(msg, Contains("12288 bytes"));
  CHECK_THAT(msg, Contains("BF16 x [95, 64]"));
  CHECK_THAT(msg, Contains("needs 12160"));
}

TEST_CASE("unsupported dtype is named", "[loading][unsupported]") {
  TempDir tmp;
  copyFixture("mixtral", tmp.path);
  const fs::path file = tmp / "model.safetensors";
  RawSafetensors raw = readRaw(file);
  for (const std::string dtype : {"I8", "F64", "F8_E8M0"}) {
    INFO(dtype);
    RawSafetensors bad = raw;
    bad.header[kW1]["dtype"] = dtype;
    writeRaw(file, bad);
    const std::string msg = errorOf([&] { moe::SafetensorsFile f(file.string()); }, moe::ErrorKind::Unsupported);
    CHECK_THAT(msg, Contains(file.string()));
    CHECK_THAT(msg, Contains(kW1));
    CHECK_THAT(msg, Contains("dtype " + dtype));
    CHECK_THAT(msg, Contains("BF16, F16, F32"));
  }
}

// ---------------------------------------------------------------------------------------------
// Model::open: shapes and presence
// ---------------------------------------------------------------------------------------------

TEST_CASE("Model::open reports a tensor with a wrong shape", "[loading][shape]") {
  for (const auto& arch : kArchs) {
    INFO(arch);
    TempDir tmp;
    copyFixture(arch, tmp.path);
    const fs::path file = tmp / "model.safetensors";
    RawSafetensors raw = readRaw(file);
    const std::string name = swappableTensor(raw.header);
    REQUIRE(!name.empty());
    INFO(name);
    auto shape = raw.header[name]["shape"].get<std::vector<int64_t>>();
    auto swapped = shape;
    std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);  // same byte size
    raw.header[name]["shape"] = swapped;
    writeRaw(file, raw);

    moe::SafetensorsFile ok(file.string());  // still a valid safetensors file
    const std::string msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::Shape);
    CHECK_THAT(msg, Contains("'" + name + "'"));
    CHECK_THAT(msg, Contains("has shape " + moe::shapeString(swapped)));
    CHECK_THAT(msg, Contains("expected " + moe::shapeString(shape)));
    CHECK_THAT(msg, Contains(file.string()));
  }
}

TEST_CASE("Model::open reports a missing tensor", "[loading][missing]") {
  for (const auto& arch : kArchs) {
    INFO(arch);
    TempDir tmp;
    copyFixture(arch, tmp.path);
    const fs::path file = tmp / "model.safetensors";
    RawSafetensors raw = readRaw(file);
    // Drop a layer-1 projection from the header; its bytes stay behind as unreferenced data.
    std::string victim = swappableTensor(raw.header);
    REQUIRE(!victim.empty());
    INFO(victim);
    raw.header.erase(victim);
    writeRaw(file, raw);

    auto store = moe::TensorStore::openFolder(tmp.str());
    CHECK_FALSE(store->has(victim));
    std::string msg = errorOf([&] { store->get(victim); }, moe::ErrorKind::MissingTensor);
    CHECK_THAT(msg, Contains("'" + victim + "'"));
    CHECK_THAT(msg, Contains(tmp.str()));

    msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::MissingTensor);
    CHECK_THAT(msg, Contains("'" + victim + "'"));
    CHECK_THAT(msg, Contains("missing"));
  }
  SECTION("lm_head of an untied model") {
    TempDir tmp;
    copyFixture("mixtral", tmp.path);
    RawSafetensors raw = readRaw(tmp / "model.safetensors");
    raw.header.erase("lm_head.weight");
    writeRaw(tmp / "model.safetensors", raw);
    const std::string msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::MissingTensor);
    CHECK_THAT(msg, Contains("'lm_head.weight'"));
  }
}

// ---------------------------------------------------------------------------------------------
// config.json
// ---------------------------------------------------------------------------------------------

TEST_CASE("unknown architecture lists the supported ones", "[loading][config]") {
  TempDir tmp;
  copyFixture("mixtral", tmp.path);
  json cfg = readJson(tmp / "config.json");
  cfg["model_type"] = "foo";
  writeJson(tmp / "config.json", cfg);
  const std::string msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::Unsupported);
  CHECK_THAT(msg, Contains("'foo'"));
  CHECK_THAT(msg, Contains("supported"));
  for (const auto& arch : kArchs) CHECK_THAT(msg, Contains(arch));
  CHECK_THAT(msg, Contains((tmp / "config.json").string()));
}

TEST_CASE("missing, malformed and incomplete config.json", "[loading][config]") {
  TempDir tmp;
  copyFixture("mixtral", tmp.path);
  const fs::path cfgPath = tmp / "config.json";
  SECTION("missing") {
    fs::remove(cfgPath);
    std::string msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains(cfgPath.string()));
    msg = errorOf([&] { moe::ModelConfig::fromFile(tmp.str()); }, moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains("config.json"));
  }
  SECTION("malformed") {
    writeBytes(cfgPath, "{\"model_type\": \"mixtral\", \"hidden_size\": ");
    const std::string msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains(cfgPath.string()));
    CHECK_THAT(msg, Contains("not valid JSON"));
  }
  SECTION("not an object") {
    writeBytes(cfgPath, "[]");
    const std::string msg = errorOf([&] { moe::ModelConfig::fromFile(cfgPath.string()); }, moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains("not a JSON object"));
  }
  SECTION("hidden_size missing") {
    json cfg = readJson(cfgPath);
    cfg.erase("hidden_size");
    writeJson(cfgPath, cfg);
    const std::string msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains(cfgPath.string()));
    CHECK_THAT(msg, Contains("'hidden_size'"));
    CHECK_THAT(msg, Contains("missing"));
  }
  SECTION("hidden_size null counts as missing") {
    json cfg = readJson(cfgPath);
    cfg["hidden_size"] = nullptr;
    const std::string msg = errorOf([&] { moe::ModelConfig::fromJson(cfg, "cfg"); }, moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains("'hidden_size'"));
  }
  SECTION("hidden_size of the wrong type") {
    json cfg = readJson(cfgPath);
    cfg["hidden_size"] = "64";
    const std::string msg = errorOf([&] { moe::ModelConfig::fromJson(cfg, "cfg"); }, moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains("'hidden_size'"));
    CHECK_THAT(msg, Contains("integer"));
  }
  SECTION("no model_type") {
    json cfg = readJson(cfgPath);
    cfg.erase("model_type");
    const std::string msg = errorOf([&] { moe::ModelConfig::fromJson(cfg, "cfg"); }, moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains("model_type"));
  }
}

TEST_CASE("transformers 4 and 5 configs parse to the same values", "[loading][config]") {
  json v5 = readJson(kTiny / "mixtral" / "config.json");
  v5["rope_parameters"] = {{"rope_theta", 1000000.0}, {"rope_type", "default"}};
  v5.erase("torch_dtype");
  v5["dtype"] = "bfloat16";
  v5["head_dim"] = nullptr;

  json v4 = v5;
  v4.erase("rope_parameters");
  v4.erase("dtype");
  v4.erase("head_dim");
  v4["rope_theta"] = 1000000.0;
  v4["rope_scaling"] = nullptr;
  v4["torch_dtype"] = "bfloat16";
  v4["transformers_version"] = "4.46.0";

  const auto c5 = moe::ModelConfig::fromJson(v5, "v5");
  const auto c4 = moe::ModelConfig::fromJson(v4, "v4");
  CHECK(c5.rope.theta == 1000000.0);
  CHECK(c4.rope.theta == c5.rope.theta);
  CHECK(c5.headDim == 16);  // 64 / 4 heads
  CHECK(c4.headDim == c5.headDim);
  CHECK(c4.rope.type == "default");
  CHECK(c4.rope.type == c5.rope.type);
  CHECK(c4.dtype == "bfloat16");
  CHECK(c4.dtype == c5.dtype);
  CHECK(c4.numExperts == c5.numExperts);
  CHECK(c4.topK == c5.topK);

  SECTION("rope_scaling with the old 'type' key") {
    v4["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
    const auto c = moe::ModelConfig::fromJson(v4, "v4");
    CHECK(c.rope.type == "linear");
    CHECK(c.rope.getNumber("factor", 1.0) == 2.0);
    CHECK(c.rope.theta == 1000000.0);  // still from the top level
  }
  SECTION("explicit head_dim wins in both") {
    v4["head_dim"] = 32;
    v5["head_dim"] = 32;
    CHECK(moe::ModelConfig::fromJson(v4, "v4").headDim == 32);
    CHECK(moe::ModelConfig::fromJson(v5, "v5").headDim == 32);
  }
  SECTION("a v4 config.json runs the fixture to the same logits") {
    json orig4 = readJson(kTiny / "mixtral" / "config.json");
    const double theta = moe::ModelConfig::fromJson(orig4, "orig").rope.theta;
    orig4.erase("rope_parameters");
    orig4.erase("dtype");
    orig4.erase("head_dim");
    orig4["rope_theta"] = theta;
    orig4["rope_scaling"] = nullptr;
    TempDir tmp;
    copyFixture("mixtral", tmp.path);
    writeJson(tmp / "config.json", orig4);
    auto a = moe::Model::open((kTiny / "mixtral").string(), cpu());
    auto b = moe::Model::open(tmp.str(), cpu());
    CHECK(at::equal(a->forward(sampleIds()), b->forward(sampleIds())));
  }
}

TEST_CASE("expert-count spellings all land in numExperts", "[loading][config]") {
  json base = readJson(kTiny / "mixtral" / "config.json");
  base.erase("num_local_experts");
  for (const std::string key : {"num_local_experts", "num_experts", "n_routed_experts"}) {
    INFO(key);
    json j = base;
    j[key] = 6;
    const auto c = moe::ModelConfig::fromJson(j, "cfg");
    CHECK(c.numExperts == 6);
    CHECK(c.numExpertsKey == key);
  }
  SECTION("a null spelling is skipped for the next one") {
    json j = base;
    j["num_local_experts"] = nullptr;
    j["num_experts"] = 5;
    CHECK(moe::ModelConfig::fromJson(j, "cfg").numExperts == 5);
  }
  SECTION("fixtures") {
    CHECK(moe::ModelConfig::fromFile((kTiny / "mixtral").string()).numExperts == 8);
    CHECK(moe::ModelConfig::fromFile((kTiny / "qwen2_moe").string()).numExperts == 12);
    CHECK(moe::ModelConfig::fromFile((kTiny / "qwen2_moe").string()).numExpertsKey == "num_experts");
  }
}

TEST_CASE("num_experts_per_tok and the expert count are validated for every architecture", "[loading][config][hardening]") {
  // Missing, top-k was 0 and silently zeroed every MoE output; above E it surfaced as an internal
  // error at the first forward.
  for (const std::string arch : {"mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "granitemoe", "gpt_oss", "deepseek_v3"}) {
    INFO(arch);
    const json fixture = readJson(kTiny / arch / "config.json");
    const moe::ModelConfig ok = moe::ModelConfig::fromJson(fixture, arch + "/config.json");
    REQUIRE(moe::makeArchitecture(ok)->topK() == fixture["num_experts_per_tok"].get<int64_t>());
    const int64_t E = ok.numExperts;
    REQUIRE(E > 1);

    json j = fixture;
    j.erase("num_experts_per_tok");
    std::string msg = errorOf([&] { moe::makeArchitecture(moe::ModelConfig::fromJson(j, arch + "/config.json")); },
                              moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains(arch + "/config.json"));
    CHECK_THAT(msg, Contains("num_experts_per_tok is missing"));

    for (const int64_t k : {int64_t{0}, E + 1, int64_t{100}}) {
      j = fixture;
      j["num_experts_per_tok"] = k;
      msg = errorOf([&] { moe::makeArchitecture(moe::ModelConfig::fromJson(j, "cfg")); }, moe::ErrorKind::Config);
      CHECK_THAT(msg, Contains("num_experts_per_tok is " + std::to_string(k)));
      CHECK_THAT(msg, Contains("[1, " + ok.numExpertsKey + " = " + std::to_string(E) + "]"));
    }
    j = fixture;
    j["num_experts_per_tok"] = E;  // top-k = E is legal
    CHECK(moe::makeArchitecture(moe::ModelConfig::fromJson(j, "cfg"))->topK() == E);
  }
  SECTION("an architecture whose every layer is MoE needs an expert count") {
    for (const std::string arch : {"mixtral", "olmoe", "granitemoe", "gpt_oss"}) {
      INFO(arch);
      json j = readJson(kTiny / arch / "config.json");
      for (const char* key : {"num_local_experts", "num_experts", "n_routed_experts"}) j.erase(key);
      const std::string msg =
          errorOf([&] { moe::makeArchitecture(moe::ModelConfig::fromJson(j, "cfg")); }, moe::ErrorKind::Config);
      CHECK_THAT(msg, Contains("layer 0 is a MoE layer"));
      CHECK_THAT(msg, Contains("num_local_experts / num_experts / n_routed_experts is missing"));
    }
  }
}

namespace {
// A version 1.0 .npy file of little-endian int32 ids.
std::string npyInt32(const std::string& shape, const std::vector<int32_t>& ids) {
  std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  for (int32_t id : ids)
    for (int b = 0; b < 4; ++b) out += static_cast<char>((static_cast<uint32_t>(id) >> (8 * b)) & 0xFF);
  return out;
}
}  // namespace

TEST_CASE(".npy token ids need no tokenizer.json; EOS is read only when text needs it", "[loading][tokens][hardening]") {
  TempDir tmp;
  const fs::path model = kTiny / "mixtral";
  REQUIRE_FALSE(fs::exists(model / "tokenizer.json"));  // the fixture has none, like many checkpoints
  moe::TokenSourceOptions opts;
  opts.sequences = 2;
  opts.length = 3;
  SECTION("ids below vocab_size (512) are used as they are") {
    writeBytes(tmp / "ids.npy", npyInt32("(2, 4)", {5, 17, 511, 0, 42, 7, 8, 9}));
    const at::Tensor ids = moe::loadTokenIds((tmp / "ids.npy").string(), model.string(), opts);
    REQUIRE(ids.sizes() == at::IntArrayRef({2, 3}));
    CHECK(ids.equal(at::tensor({5, 17, 511, 0, 42, 7}, at::kLong).view({2, 3})));
  }
  SECTION("an id at vocab_size is refused, naming the limit's source") {
    writeBytes(tmp / "big.npy", npyInt32("(6,)", {1, 2, 3, 4, 5, 512}));
    const std::string msg =
        errorOf([&] { moe::loadTokenIds((tmp / "big.npy").string(), model.string(), opts); }, moe::ErrorKind::InvalidArgument);
    CHECK_THAT(msg, Contains("token id 512 at position 5"));
    CHECK_THAT(msg, Contains("vocab_size"));
  }
  SECTION("text with an eos_token_id that does not fit a token id") {
    json cfg = readJson(model / "config.json");
    cfg["eos_token_id"] = int64_t{1} << 40;  // was wrapped silently to a different id
    writeJson(tmp / "config.json", cfg);
    fs::copy_file(fs::path(MOESCOPE_TEST_DATA) / "tokenizers" / "bytelevel" / "tokenizer.json", tmp / "tokenizer.json");
    writeBytes(tmp / "calib.txt", "some calibration text\n");
    const std::string msg =
        errorOf([&] { moe::loadTokenIds((tmp / "calib.txt").string(), tmp.str(), opts); }, moe::ErrorKind::Config);
    CHECK_THAT(msg, Contains("config.json: eos_token_id 1099511627776"));
  }
}

// ---------------------------------------------------------------------------------------------
// Pickle checkpoints
// ---------------------------------------------------------------------------------------------

TEST_CASE("pickle-only folder is refused without reading the file", "[loading][pickle]") {
  for (const char* pickle : {"pytorch_model.bin", "pytorch_model.bin.index.json"}) {
    INFO(pickle);
    TempDir tmp;
    fs::copy_file(kTiny / "mixtral" / "config.json", tmp / "config.json");
    const fs::path bin = tmp / pickle;
    // Not even a valid pickle: if the loader read it, it would fail differently.
    const std::string content = std::string("\x80\x04") + "garbage that must never be unpickled";
    writeBytes(bin, content);
    // atime one hour before mtime: any read would move it forward (relatime or strictatime).
    struct timespec times[2];
    times[1].tv_sec = ::time(nullptr);
    times[1].tv_nsec = 0;
    times[0].tv_sec = times[1].tv_sec - 3600;
    times[0].tv_nsec = 0;
    REQUIRE(::utimensat(AT_FDCWD, bin.c_str(), times, 0) == 0);
    struct stat before {};
    REQUIRE(::stat(bin.c_str(), &before) == 0);

    std::string msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::Unsupported);
    CHECK_THAT(msg, Contains("pickle"));
    CHECK_THAT(msg, Contains(pickle));
    CHECK_THAT(msg, Contains("safetensors"));
    msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::Unsupported);
    CHECK_THAT(msg, Contains("pickle"));

    struct stat after {};
    REQUIRE(::stat(bin.c_str(), &after) == 0);
    CHECK(after.st_atim.tv_sec == before.st_atim.tv_sec);
    CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
    CHECK(readBytes(bin) == content);
  }
  SECTION("safetensors next to a pickle file is preferred") {
    TempDir tmp;
    copyFixture("mixtral", tmp.path);
    writeBytes(tmp / "pytorch_model.bin", "not a pickle");
    CHECK_NOTHROW(moe::Model::open(tmp.str(), cpu()));
  }
  SECTION("an empty folder is an Io error, not a pickle one") {
    TempDir tmp;
    const std::string msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::Io);
    CHECK_THAT(msg, Contains("model.safetensors"));
  }
}

// ---------------------------------------------------------------------------------------------
// Sharded checkpoints
// ---------------------------------------------------------------------------------------------

namespace {

const char* kShard1 = "model-00001-of-00002.safetensors";
const char* kShard2 = "model-00002-of-00002.safetensors";

// Splits the mixtral fixture into two shards plus an index in `dir`.
json writeShardedMixtral(const fs::path& dir) {
  fs::copy_file(kTiny / "mixtral" / "config.json", dir / "config.json");
  moe::SafetensorsFile src((kTiny / "mixtral" / "model.safetensors").string());
  std::vector<moe::TensorBlob> blobs;
  for (auto& [name, info] : src.tensors()) {
    moe::TensorBlob b;
    b.name = name;
    b.dtype = info.dtype;
    b.shape = info.shape;
    b.bytes.assign(info.data, info.data + info.nbytes);
    blobs.push_back(std::move(b));
  }
  std::vector<const moe::TensorBlob*> first, second;
  json index;
  index["metadata"] = {{"total_size", 0}};
  uint64_t total = 0;
  for (auto& b : blobs) {
    const bool early = b.name < "model.layers.1.";  // lm_head, embeddings and layer 0
    (early ? first : second).push_back(&b);
    index["weight_map"][b.name] = early ? kShard1 : kShard2;
    total += b.bytes.size();
  }
  index["metadata"]["total_size"] = total;
  REQUIRE(!first.empty());
  REQUIRE(!second.empty());
  moe::writeSafetensors((dir / kShard1).string(), first);
  moe::writeSafetensors((dir / kShard2).string(), second);
  writeJson(dir / "model.safetensors.index.json", index);
  return index;
}

}  // namespace

TEST_CASE("sharded checkpoint gives the same logits as the single file", "[loading][sharded]") {
  TempDir tmp;
  writeShardedMixtral(tmp.path);
  auto single = moe::Model::open((kTiny / "mixtral").string(), cpu());
  auto sharded = moe::Model::open(tmp.str(), cpu());
  REQUIRE(sharded->store().files().size() == 2);
  CHECK(sharded->store().names() == single->store().names());
  CHECK(sharded->store().get("lm_head.weight").file == (tmp / kShard1).string());
  CHECK(sharded->store().get("model.norm.weight").file == (tmp / kShard2).string());

  const at::Tensor a = single->forward(sampleIds());
  const at::Tensor b = sharded->forward(sampleIds());
  REQUIRE(a.sizes() == b.sizes());
  CHECK(a.size(2) == single->config().vocabSize);
  CHECK(at::equal(a, b));
}

TEST_CASE("sharded checkpoint with a broken index", "[loading][sharded]") {
  TempDir tmp;
  json index = writeShardedMixtral(tmp.path);
  const fs::path indexPath = tmp / "model.safetensors.index.json";
  SECTION("index names a missing shard") {
    fs::remove(tmp / kShard2);
    const std::string msg = errorOf([&] { moe::Model::open(tmp.str(), cpu()); }, moe::ErrorKind::Io);
    CHECK_THAT(msg, Contains(kShard2));
    CHECK_THAT(msg, Contains("missing"));
    CHECK_THAT(msg, Contains(indexPath.string()));
  }
  SECTION("index maps a tensor that no shard holds") {
    index["weight_map"]["model.layers.0.extra.weight"] = kShard1;
    writeJson(indexPath, index);
    const std::string msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::MissingTensor);
    CHECK_THAT(msg, Contains("'model.layers.0.extra.weight'"));
    CHECK_THAT(msg, Contains(kShard1));
  }
  SECTION("index maps a tensor to the other shard") {
    index["weight_map"]["lm_head.weight"] = kShard2;  // it lives in shard 1
    writeJson(indexPath, index);
    const std::string msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::MissingTensor);
    CHECK_THAT(msg, Contains("'lm_head.weight'"));
    CHECK_THAT(msg, Contains(kShard2));
  }
  SECTION("a tensor in two shards") {
    moe::TensorBlob dup;
    dup.name = "lm_head.weight";
    dup.shape = {1};
    dup.bytes.assign(4, 0);
    moe::SafetensorsFile s2((tmp / kShard2).string());
    std::vector<moe::TensorBlob> blobs;
    for (auto& [name, info] : s2.tensors())
      blobs.push_back({name, info.dtype, info.shape, std::vector<uint8_t>(info.data, info.data + info.nbytes)});
    blobs.push_back(dup);
    std::vector<const moe::TensorBlob*> ptrs;
    for (auto& b : blobs) ptrs.push_back(&b);
    const fs::path tmpShard = tmp / "rewrite.tmp";
    moe::writeSafetensors(tmpShard.string(), ptrs);
    fs::rename(tmpShard, tmp / kShard2);
    const std::string msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("'lm_head.weight'"));
    CHECK_THAT(msg, Contains(kShard1));
    CHECK_THAT(msg, Contains(kShard2));
  }
  SECTION("index without weight_map") {
    writeJson(indexPath, json{{"metadata", json::object()}});
    const std::string msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("weight_map"));
  }
  SECTION("index that is not JSON") {
    writeBytes(indexPath, "{\"weight_map\": ");
    const std::string msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains(indexPath.string()));
  }
  SECTION("weight_map entry that is not a file name") {
    index["weight_map"]["lm_head.weight"] = 1;
    writeJson(indexPath, index);
    const std::string msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("'lm_head.weight'"));
  }
  SECTION("shard name leaving the folder") {
    index["weight_map"]["lm_head.weight"] = "../elsewhere.safetensors";
    writeJson(indexPath, index);
    const std::string msg = errorOf([&] { moe::TensorStore::openFolder(tmp.str()); }, moe::ErrorKind::Format);
    CHECK_THAT(msg, Contains("../elsewhere.safetensors"));
  }
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

TEST_CASE("writeSafetensors round trip", "[loading][writer]") {
  TempDir tmp;
  std::vector<moe::TensorBlob> blobs;
  auto add = [&](const std::string& name, moe::DType dtype, std::vector<int64_t> shape) {
    moe::TensorBlob b;
    b.name = name;
    b.dtype = dtype;
    b.shape = std::move(shape);
    int64_t n = 1;
    for (int64_t d : b.shape) n *= d;
    b.bytes.resize(static_cast<size_t>(n) * moe::dtypeSize(dtype));
    for (size_t i = 0; i < b.bytes.size(); ++i) b.bytes[i] = static_cast<uint8_t>((i * 31 + name.size()) & 0xff);
    blobs.push_back(std::move(b));
  };
  // Unsorted names, odd sizes (so the data of later tensors is not naturally aligned), all dtypes.
  add("z.last", moe::DType::F32, {3, 5});
  add("a.first", moe::DType::BF16, {7});
  add("m.middle", moe::DType::F16, {2, 3, 1});
  add("scalar", moe::DType::F32, {});
  add("empty", moe::DType::BF16, {0, 4});
  std::vector<const moe::TensorBlob*> ptrs;
  for (auto& b : blobs) ptrs.push_back(&b);
  const fs::path file = tmp / "out.safetensors";
  moe::writeSafetensors(file.string(), ptrs, {{"format", "pt"}, {"moescope", "test"}});

  const std::string bytes = readBytes(file);
  const uint64_t n = headerLength(bytes);
  CHECK(n % 8 == 0);
  uint64_t total = 0;
  for (auto& b : blobs) total += b.bytes.size();
  CHECK(bytes.size() == 8 + n + total);
  const RawSafetensors raw = readRaw(file);
  CHECK(raw.header["__metadata__"] == json({{"format", "pt"}, {"moescope", "test"}}));
  // Data in name order, like safetensors' serializer.
  uint64_t prev = 0;
  for (auto& [name, e] : raw.header.items()) {
    if (name == "__metadata__") continue;
    CHECK(e["data_offsets"][0].get<uint64_t>() == prev);
    prev = e["data_offsets"][1].get<uint64_t>();
  }

  moe::SafetensorsFile f(file.string());
  CHECK(f.metadata().at("moescope") == "test");
  REQUIRE(f.tensors().size() == blobs.size());
  for (auto& b : blobs) {
    INFO(b.name);
    REQUIRE(f.tensors().count(b.name) == 1);
    const auto& info = f.tensors().at(b.name);
    CHECK(info.dtype == b.dtype);
    CHECK(info.shape == b.shape);
    CHECK(info.nbytes == b.bytes.size());
    CHECK(std::vector<uint8_t>(info.data, info.data + info.nbytes) == b.bytes);
    CHECK(raw.header[b.name]["dtype"] == moe::dtypeName(b.dtype));
  }

  SECTION("rewriting a real checkpoint reproduces its tensors") {
    moe::SafetensorsFile src((kTiny / "qwen3_moe" / "model.safetensors").string());
    std::vector<moe::TensorBlob> copy;
    for (auto& [name, info] : src.tensors())
      copy.push_back({name, info.dtype, info.shape, std::vector<uint8_t>(info.data, info.data + info.nbytes)});
    std::vector<const moe::TensorBlob*> cp;
    for (auto& b : copy) cp.push_back(&b);
    const fs::path out = tmp / "qwen3.safetensors";
    moe::writeSafetensors(out.string(), cp);
    moe::SafetensorsFile back(out.string());
    REQUIRE(back.tensors().size() == src.tensors().size());
    for (auto& [name, info] : src.tensors()) {
      const auto& o = back.tensors().at(name);
      CHECK(o.shape == info.shape);
      CHECK(o.dtype == info.dtype);
      CHECK(std::memcmp(o.data, info.data, info.nbytes) == 0);
    }
    CHECK(headerLength(readBytes(out)) % 8 == 0);
  }
}

TEST_CASE("writeSafetensors errors", "[loading][writer]") {
  TempDir tmp;
  moe::TensorBlob b{"w", moe::DType::F32, {2}, std::vector<uint8_t>(8, 1)};
  SECTION("into a folder that does not exist") {
    const fs::path file = tmp / "no" / "such" / "folder" / "out.safetensors";
    const std::string msg = errorOf([&] { moe::writeSafetensors(file.string(), {&b}); }, moe::ErrorKind::Io);
    CHECK_THAT(msg, Contains(file.string()));
    CHECK_FALSE(fs::exists(tmp / "no"));
  }
  SECTION("bytes that do not match the shape") {
    b.bytes.resize(7);
    const fs::path file = tmp / "out.safetensors";
    const std::string msg = errorOf([&] { moe::writeSafetensors(file.string(), {&b}); }, moe::ErrorKind::InvalidArgument);
    CHECK_THAT(msg, Contains("'w'"));
    CHECK_FALSE(fs::exists(file));
  }
}

// ---------------------------------------------------------------------------------------------
// Opening never writes
// ---------------------------------------------------------------------------------------------

TEST_CASE("opening and running a model never modifies its files", "[loading][readonly]") {
  SECTION("a copy of a fixture") {
    TempDir tmp;
    copyFixture("mixtral", tmp.path);
    // Push mtimes into the past so a write within this second would still show.
    for (auto& e : fs::directory_iterator(tmp.path))
      fs::last_write_time(e.path(), fs::last_write_time(e.path()) - std::chrono::hours(1));
    const FolderSnapshot before(tmp.path);
    {
      auto m = moe::Model::open(tmp.str(), cpu());
      m->forward(sampleIds());
      m->moeBlock(0);
    }
    CHECK(FolderSnapshot(tmp.path) == before);
  }
  SECTION("a sharded copy") {
    TempDir tmp;
    writeShardedMixtral(tmp.path);
    for (auto& e : fs::directory_iterator(tmp.path))
      fs::last_write_time(e.path(), fs::last_write_time(e.path()) - std::chrono::hours(1));
    const FolderSnapshot before(tmp.path);
    {
      auto m = moe::Model::open(tmp.str(), cpu());
      m->forward(sampleIds());
    }
    CHECK(FolderSnapshot(tmp.path) == before);
  }
  SECTION("the fixtures themselves") {
    for (const auto& arch : kArchs) {
      INFO(arch);
      const FolderSnapshot before(kTiny / arch);
      {
        auto m = moe::Model::open((kTiny / arch).string(), cpu());
        m->forward(sampleIds());
      }
      CHECK(FolderSnapshot(kTiny / arch) == before);
    }
  }
  SECTION("a corrupted file is left as it was") {
    TempDir tmp;
    copyFixture("mixtral", tmp.path);
    RawSafetensors raw = readRaw(tmp / "model.safetensors");
    raw.header[kW1]["shape"] = {64, 96};
    writeRaw(tmp / "model.safetensors", raw);
    const FolderSnapshot before(tmp.path);
    CHECK_THROWS_AS(moe::Model::open(tmp.str(), cpu()), moe::Error);
    CHECK(FolderSnapshot(tmp.path) == before);
  }
}
