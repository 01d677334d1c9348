// Command-line mistakes are usage errors (exit 2) with a message naming the option and, for an
// enumerated option, every accepted value; failures of the work itself exit 1. A typo in a value
// must never fall back to a default.
#include <filesystem>
#include <fstream>

#include "tests/catch.h"
#include "tests/cli/cli_fixtures.h"
#include "tests/cli/cli_runner.h"

namespace fs = std::filesystem;
using moe::test::Contains;
using namespace moe::test;

namespace {

struct UsageCase {
  std::vector<std::string> args;
  std::vector<std::string> message;  // substrings the error must contain
};

std::vector<std::string> mergeArgs(std::vector<std::string> extra) {
  std::vector<std::string> a{"merge", "--model", hfTiny("mixtral"), "--analysis", mixtralAnalysis(),
                             "--out", (runDir() / "never-written").string()};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

TEST_CASE("cli: command-line mistakes exit 2 and say what is accepted") {
  const std::string model = hfTiny("mixtral");
  const std::string calib = model + "/hcsmoe_reference.h5:calib_ids";
  const std::string text = demoFile("eval.jsonl");
  const std::vector<UsageCase> cases{
      // option syntax
      {{"merge", "--bogus", "1"}, {"unknown option --bogus"}},
      {{"forward", "--model"}, {"--model needs a value"}},
      {mergeArgs({"--experts", "four"}), {"--experts", "integer", "four"}},
      {mergeArgs({"--experts", "4x"}), {"--experts", "integer", "4x"}},
      {mergeArgs({}), {"--experts K"}},
      {{"forward", "--model", model, "--out", (runDir() / "x.h5").string()}, {"--text"}},
      // numbers out of range
      {mergeArgs({"--experts", "0"}), {"--experts", "between 1 and 8"}},
      {mergeArgs({"--experts", "9"}), {"--experts", "between 1 and 8"}},
      {mergeArgs({"--experts", "4", "--shard-mb", "0"}), {"--shard-mb", "between 1 and"}},
      {mergeArgs({"--experts", "4", "--first-unmerged", "-1"}), {"--first-unmerged", "between 0 and"}},
      {{"compare", "--model", model, "--calib", calib, "--text", text, "--experts", "4,0"}, {"between 1 and 8", "got 0"}},
      {{"compare", "--model", model, "--calib", calib, "--text", text, "--experts", "4,x"}, {"--experts", "12,8,4"}},
      {{"synth", "--arch", "mixtral", "--out", (runDir() / "s").string(), "--experts", "4", "--top-k", "5"},
       {"--top-k", "between 1 and 4"}},
      {{"eval", "--model", model, "--text", text, "--length", "1"}, {"--length", "between 2 and"}},
      // enumerated values
      {mergeArgs({"--experts", "4", "--grouping", "randm"}), {"randm", "clustering", "random"}},
      {mergeArgs({"--experts", "4", "--linkage", "avg"}), {"avg", "single", "complete", "average", "ward"}},
      {mergeArgs({"--experts", "4", "--basis", "outputs"}),
       {"outputs", "expert_output", "expert_output_routed", "router_logits", "weights"}},
      {mergeArgs({"--experts", "4", "--metric", "manhattan"}), {"manhattan", "euclidean", "cosine"}},
      {mergeArgs({"--experts", "4", "--strategy", "freq"}), {"freq", "frequency", "average", "dominant", "f-prune", "reap"}},
      {mergeArgs({"--experts", "4", "--format", "compakt"}), {"compakt", "compact", "expert-map"}},
      {mergeArgs({"--experts", "4", "--router", "tied"}), {"tied", "average", "frequency", "lse-fit", "soft-fit", "tied-fit"}},
      {mergeArgs({"--experts", "4", "--device", "gpu"}), {"gpu", "auto", "cpu", "cuda"}},
      {mergeArgs({"--experts", "4", "--dtype", "fp64"}), {"fp64", "fp32", "bf16"}},
      {{"analyze", "--model", model, "--calib", calib, "--out", (runDir() / "a.h5").string(), "--stat", "every"},
       {"--stat", "all", "routed"}},
      {{"analyze", "--model", model, "--calib", calib, "--out", (runDir() / "a.h5").string(), "--staging", "pinned"},
       {"'pinned'", "off", "auto", "copy"}},
      {{"cluster", mixtralAnalysis(), "--experts", "2", "--linkage", "wards"}, {"wards", "single", "ward"}},
      {{"cluster", mixtralAnalysis(), "--experts", "2", "--basis", "w"}, {"'w'", "router_logits"}},
      {{"cluster", mixtralAnalysis(), "--experts", "2", "--metric", "l1"}, {"l1", "euclidean", "cosine"}},
      {{"compare", "--model", model, "--calib", calib, "--text", text, "--experts", "4", "--routers", "average,fit"},
       {"'fit'", "lse-fit", "tied-fit"}},
      {{"synth", "--arch", "llama", "--out", (runDir() / "s").string()}, {"llama", "mixtral", "qwen2_moe", "gpt_oss"}},
      {{"bench", "--dtype", "int8"}, {"int8", "fp32", "bf16"}},
      {{"eval", "--model", model, "--text", text, "--device", "tpu"}, {"tpu", "auto", "cpu", "cuda"}},
      // options that would be silently ignored
      {mergeArgs({"--plan", (runDir() / "p.json").string(), "--linkage", "single"}), {"--linkage", "--plan"}},
      {mergeArgs({"--plan", (runDir() / "p.json").string(), "--experts", "4"}), {"--experts", "--plan"}},
  };
  for (const auto& c : cases) {
    std::string cmd;
    for (const auto& a : c.args) cmd += " " + a;
    INFO("moescope-cli" << cmd);
    const CliResult r = runCli(c.args);
    INFO("stderr: " << r.err);
    CHECK(r.code == 2);
    for (const auto& m : c.message) CHECK_THAT(r.err, Contains(m));
  }
  CHECK(!fs::exists(runDir() / "never-written"));
}

TEST_CASE("cli: failures of the work itself exit 1, not 2") {
  const fs::path dir = runDir() / "failures";
  fs::create_directories(dir);
  {
    std::ofstream((dir / "not-hdf5.h5").string()) << "plain text";
    std::ofstream((dir / "bad-plan.json").string()) << "{ not json";
  }
  const std::vector<std::vector<std::string>> cases{
      {"forward", "--model", (dir / "no-such-model").string(), "--text", demoFile("eval.jsonl"), "--out",
       (dir / "f.h5").string()},
      {"cluster", (dir / "not-hdf5.h5").string(), "--experts", "2"},
      {"merge", "--model", hfTiny("mixtral"), "--plan", (dir / "bad-plan.json").string(), "--out", (dir / "m").string()},
  };
  for (const auto& args : cases) {
    std::string cmd;
    for (const auto& a : args) cmd += " " + a;
    INFO("moescope-cli" << cmd);
    const CliResult r = runCli(args);
    INFO("stderr: " << r.err);
    CHECK(r.code == 1);
    CHECK(!r.err.empty());
  }
  // An existing non-empty target is refused as a bad --out (usage), and left as it was.
  const CliResult taken =
      runCli({"merge", "--model", hfTiny("mixtral"), "--analysis", mixtralAnalysis(), "--experts", "4", "--out", dir.string()});
  CHECK(taken.code == 2);
  CHECK_THAT(taken.err, Contains("already exists"));
  CHECK(readFile(dir / "not-hdf5.h5") == "plain text");
}
