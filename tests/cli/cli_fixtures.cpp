#include "tests/cli/cli_fixtures.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

#include "core/io/h5file.h"
#include "core/model/safetensors.h"
#include "tests/cli/cli_runner.h"

namespace fs = std::filesystem;

namespace moe::test {
namespace {

float halfToFloat(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  if (exponent == 0) return sign * std::ldexp(static_cast<float>(mantissa), -24);
  if (exponent == 31) return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(static_cast<float>(mantissa + 1024), exponent - 25);
}

}  // namespace

std::string hfTiny(const std::string& arch) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch; }
std::string demoModel() { return std::string(MOESCOPE_DEMO_DIR) + "/demo-moe"; }
std::string demoFile(const std::string& name) { return std::string(MOESCOPE_DEMO_DIR) + "/" + name; }

const fs::path& runDir() {
  static const TempDir dir("cli-test");
  return dir.path();
}

std::string mixtralAnalysis() {
  static const std::string path = [] {
    const std::string out = (runDir() / "mixtral.analysis.h5").string();
    const CliResult r = runCli({"analyze", "--model", hfTiny("mixtral"), "--calib",
                                hfTiny("mixtral") + "/hcsmoe_reference.h5:calib_ids", "--out", out, "--device", "cpu"});
    if (r.code != 0) throw std::runtime_error("analyze of the tiny Mixtral failed (" + std::to_string(r.code) + "): " + r.err);
    return out;
  }();
  return path;
}

nlohmann::json readJson(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

std::vector<float> readTensor(const std::string& folder, const std::string& name, std::vector<int64_t>* shape) {
  const auto store = TensorStore::openFolder(folder);
  const TensorInfo& t = store->get(name);
  if (shape) *shape = t.shape;
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t.dtype == DType::F32) {
      std::memcpy(&v[i], t.data + 4 * i, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      if (t.dtype == DType::BF16) {
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        std::memcpy(&v[i], &bits, 4);
      } else {
        v[i] = halfToFloat(h);
      }
    }
  }
  return v;
}

std::vector<std::string> tensorNames(const std::string& folder) { return TensorStore::openFolder(folder)->names(); }

std::map<std::string, uint64_t> hashTree(const fs::path& folder) {
  std::map<std::string, uint64_t> out;
  for (const auto& e : fs::recursive_directory_iterator(folder)) {
    if (!e.is_regular_file()) continue;
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : readFile(e.path())) h = (h ^ c) * 1099511628211ull;
    out[fs::relative(e.path(), folder).string()] = h;
  }
  return out;
}

std::string writeIds(const std::string& file, int64_t rows, int64_t cols, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> ids(static_cast<size_t>(rows * cols));
  for (auto& id : ids) id = static_cast<int64_t>(rng() % static_cast<uint64_t>(vocab));
  h5::File f(file, h5::File::Mode::Create);
  f.write("ids", ids.data(), {rows, cols});
  return file + ":ids";
}

}  // namespace moe::test
