// Interrupted work and plan files: an analysis killed part-way resumes to the statistics of a fresh
// run; an export killed with SIGKILL leaves a marked partial folder that the next export to the same
// target reports and removes (and only that one); merge --plan applies saved and hand-written plans.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "core/analysis/fingerprint.h"
#include "core/io/h5file.h"
#include "core/model/safetensors.h"
#include "tests/catch.h"
#include "tests/cli/cli_fixtures.h"
#include "tests/cli/cli_runner.h"

namespace fs = std::filesystem;
using moe::test::Contains;
using namespace moe::test;
using nlohmann::json;

namespace {

std::string fingerprintOf(const std::string& folder) {
  return moe::modelFingerprint(folder, *moe::TensorStore::openFolder(folder));
}

// A compact plan that averages experts pairwise ({0,1} -> 0, {2,3} -> 1, ...) in every MoE block.
json pairwisePlan(const std::string& model, int blocks, int experts) {
  json layers = json::array();
  std::vector<int> labels;
  for (int e = 0; e < experts; ++e) labels.push_back(e / 2);
  for (int j = 0; j < blocks; ++j)
    layers.push_back({{"moe_index", j}, {"num_experts", experts}, {"strategy", "average"}, {"router", "average"},
                      {"groups", labels}});
  return {{"moescope_merge_plan", 1}, {"model_fingerprint", fingerprintOf(model)}, {"format", "compact"},
          {"layers", layers}};
}

void writeJson(const fs::path& path, const json& j) { std::ofstream(path) << j.dump(2); }

// Every dataset under `group` of an HDF5 file, recursively.
void datasets(const moe::h5::File& f, const std::string& group, std::vector<std::string>& out) {
  for (const auto& c : f.children(group)) {
    const std::string path = group + "/" + c;
    if (f.isDataset(path)) out.push_back(path);
    else datasets(f, path, out);
  }
}

std::vector<fs::path> partialFolders(const fs::path& target) {
  std::vector<fs::path> out;
  const std::string prefix = target.filename().string() + ".partial-";
  for (const auto& e : fs::directory_iterator(target.parent_path()))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  return out;
}

bool hasShard(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".safetensors") return true;
  return false;
}

std::string hostName() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

TEST_CASE("cli analyze: an analysis killed after its first block resumes to a fresh run's statistics") {
  TempDir dir("cli-resume");
  const std::string model = dir / "model";
  REQUIRE(runCli({"synth", "--arch", "mixtral", "--out", model, "--layers", "4", "--hidden", "256", "--experts", "8",
                  "--expert-intermediate", "512", "--vocab", "256", "--seed", "3"})
              .code == 0);
  const std::string ids = writeIds(dir / "calib.h5", 8, 128, 256, 7);
  auto analyze = [&](const std::string& out) {
    return std::vector<std::string>{"analyze", "--model", model, "--calib", ids, "--out", out, "--device", "cpu",
                                    "--threads", "1"};
  };
  const std::string resumed = dir / "resumed.h5", fresh = dir / "fresh.h5";
  {
    CliProcess p(analyze(resumed), dir.path());
    // The progress line of a layer is printed after its block's statistics are stored.
    REQUIRE(waitFor([&] { return p.err().find("MoE 1/4") != std::string::npos || !p.running(); }, 120));
    REQUIRE(p.running());  // else the model is too small to interrupt: the test would prove nothing
    p.kill9();
    CHECK(p.err().find("MoE 4/4") == std::string::npos);
  }
  const CliResult again = runCli(analyze(resumed));
  REQUIRE(again.code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(again.out, m, std::regex(R"(resuming .*: (\d) of 4 MoE blocks already analysed)")));
  CHECK(std::stoi(m[1]) >= 1);
  CHECK(std::stoi(m[1]) <= 3);
  REQUIRE(runCli(analyze(fresh)).code == 0);

  moe::h5::File a(resumed, moe::h5::File::Mode::Read), b(fresh, moe::h5::File::Mode::Read);
  std::vector<std::string> names;
  datasets(b, "/layers", names);
  REQUIRE(names.size() >= 4 * 8);
  for (const auto& name : names) {
    INFO(name);
    REQUIRE(a.isDataset(name));
    const auto x = a.readDouble(name), y = b.readDouble(name);
    REQUIRE(x.shape == y.shape);
    double maxDiff = 0, scale = 1e-30;
    for (size_t i = 0; i < y.data.size(); ++i) {
      maxDiff = std::max(maxDiff, std::fabs(x.data[i] - y.data[i]));
      scale = std::max(scale, std::fabs(y.data[i]));
    }
    CHECK(maxDiff <= 1e-5 * scale);
  }
  CHECK(a.readInt("/calibration/token_ids").data == b.readInt("/calibration/token_ids").data);
}

TEST_CASE("cli merge --plan: a saved plan reproduces its export; a hand-written plan averages the named experts") {
  const std::string model = hfTiny("mixtral");
  TempDir dir("cli-plan");
  const std::string plan = dir / "saved.json";
  REQUIRE(runCli({"merge", "--model", model, "--analysis", mixtralAnalysis(), "--experts", "3", "--linkage", "single",
                  "--save-plan", plan, "--out", dir / "direct", "--device", "cpu"})
              .code == 0);
  const json saved = readJson(plan);
  CHECK(saved["layers"].size() == 3);
  const CliResult replay = runCli({"merge", "--model", model, "--plan", plan, "--out", dir / "replayed", "--device", "cpu"});
  REQUIRE(replay.code == 0);
  for (const char* f : {"model.safetensors", "config.json"})
    CHECK(readFile(fs::path(dir / "direct") / f) == readFile(fs::path(dir / "replayed") / f));

  // By hand: experts averaged pairwise, router rows averaged likewise.
  writeJson(dir / "hand.json", pairwisePlan(model, 3, 8));
  const CliResult hand = runCli({"merge", "--model", model, "--plan", dir / "hand.json", "--out", dir / "hand", "--device", "cpu"});
  REQUIRE(hand.code == 0);
  const std::string out = dir / "hand";
  CHECK(readJson(fs::path(out) / "config.json")["num_local_experts"] == 4);
  const std::string p = "model.layers.1.block_sparse_moe.";
  for (int g = 0; g < 4; ++g)
    for (const char* w : {"w1", "w2", "w3"}) {
      INFO("group " << g << " " << w);
      const auto merged = readTensor(out, p + "experts." + std::to_string(g) + "." + w + ".weight");
      const auto x = readTensor(model, p + "experts." + std::to_string(2 * g) + "." + w + ".weight");
      const auto y = readTensor(model, p + "experts." + std::to_string(2 * g + 1) + "." + w + ".weight");
      REQUIRE(merged.size() == x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        const float want = 0.5f * (x[i] + y[i]);
        REQUIRE(std::fabs(merged[i] - want) <= std::fabs(want) / 128 + 1e-6f);  // bf16 rounding of the average
      }
    }
  std::vector<int64_t> shape;
  const auto gate = readTensor(out, p + "gate.weight", &shape);
  const auto srcGate = readTensor(model, p + "gate.weight");
  REQUIRE(shape == std::vector<int64_t>{4, 64});
  for (int g = 0; g < 4; ++g)
    for (int h = 0; h < 64; ++h) {
      const float want = 0.5f * (srcGate[(2 * g) * 64 + h] + srcGate[(2 * g + 1) * 64 + h]);
      REQUIRE(std::fabs(gate[g * 64 + h] - want) <= std::fabs(want) / 128 + 1e-6f);
    }

  // A plan for another model is refused.
  json other = pairwisePlan(model, 3, 8);
  other["model_fingerprint"] = "0123456789abcdef";
  writeJson(dir / "other.json", other);
  const CliResult refused = runCli({"merge", "--model", model, "--plan", dir / "other.json", "--out", dir / "other"});
  CHECK(refused.code != 0);
  CHECK(!fs::exists(dir / "other"));
}

TEST_CASE("cli merge: a killed export's partial folder is reported and removed by the next export") {
  TempDir dir("cli-debris");
  const std::string model = dir / "model";
  // About 50 MB written in 2 MB shards: the export is still writing when it is killed after its first shard.
  REQUIRE(runCli({"synth", "--arch", "mixtral", "--out", model, "--layers", "2", "--hidden", "256", "--experts", "16",
                  "--expert-intermediate", "1024", "--vocab", "1024"})
              .code == 0);
  const auto sourceBefore = hashTree(model);
  writeJson(dir / "plan.json", pairwisePlan(model, 2, 16));
  const fs::path target = dir.path() / "exports" / "merged";
  const std::vector<std::string> merge{"merge", "--model", model, "--plan", dir / "plan.json", "--out", target.string(),
                                       "--shard-mb", "2", "--device", "cpu"};
  fs::path debris;
  pid_t killed = 0;
  {
    CliProcess p(merge, dir.path());
    REQUIRE(waitFor(
        [&] {
          const auto found = fs::exists(target.parent_path()) ? partialFolders(target) : std::vector<fs::path>{};
          if (found.size() == 1 && fs::exists(found[0] / ".moescope-partial") && hasShard(found[0])) debris = found[0];
          return !debris.empty() || !p.running();
        },
        120));
    REQUIRE(!debris.empty());  // else the export finished (or failed) before it could be killed
    killed = p.pid();
    p.kill9();
  }
  REQUIRE(fs::is_directory(debris));
  CHECK(!fs::exists(target));
  const json marker = readJson(debris / ".moescope-partial");
  CHECK(marker["pid"] == killed);
  CHECK(marker["host"] == hostName());

  // Look-alikes the next export must leave alone: one without a marker, one of a live process.
  const fs::path foreign = target.string() + ".partial-abcdef", live = target.string() + ".partial-live00";
  fs::create_directories(foreign);
  fs::create_directories(live);
  writeJson(live / ".moescope-partial", {{"pid", static_cast<long>(getpid())}, {"host", hostName()}, {"started", "now"}});

  const CliResult again = runCli(merge);
  REQUIRE(again.code == 0);
  CHECK_THAT(again.out, Contains("removed stale partial export " + debris.string()));
  CHECK_THAT(again.out, Contains("kept " + live.string()));
  CHECK(!fs::exists(debris));
  CHECK(fs::exists(foreign));
  CHECK(fs::exists(live / ".moescope-partial"));
  fs::remove_all(foreign);
  fs::remove_all(live);
  CHECK(partialFolders(target).empty());

  // The export is complete: every shard of the index exists and every tensor header is valid.
  const json index = readJson(target / "model.safetensors.index.json");
  std::set<std::string> shards;
  for (const auto& [name, file] : index["weight_map"].items()) shards.insert(file.get<std::string>());
  CHECK(shards.size() > 1);
  for (const auto& s : shards) CHECK(fs::is_regular_file(target / s));
  CHECK(moe::TensorStore::openFolder(target.string())->names().size() == index["weight_map"].size());
  CHECK(readJson(target / "config.json")["num_local_experts"] == 8);
  CHECK(!fs::exists(target / ".moescope-partial"));
  CHECK(hashTree(model) == sourceBefore);  // the source model is never modified
}
