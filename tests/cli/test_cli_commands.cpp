// Every moescope-cli command, run as a subprocess on the tiny fixtures and the demo model. The
// checks compare with what is known independently of the command: transformers' reference logits,
// the requested sizes, the definition of a partition, another command's measurement of the same thing.
#include <cmath>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "core/io/h5file.h"
#include "tests/catch.h"
#include "tests/cli/cli_fixtures.h"
#include "tests/cli/cli_runner.h"

namespace fs = std::filesystem;
using moe::test::Contains;
using namespace moe::test;

namespace {

// The number after `label` in `text` (e.g. "perplexity  77.52" -> 77.52); NaN when absent.
double numberAfter(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  if (at == std::string::npos) return NAN;
  return std::strtod(text.c_str() + at + label.size(), nullptr);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream s(text);
  for (std::string l; std::getline(s, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("cli: --help lists every command and documents the exit codes") {
  const CliResult r = runCli({"--help"});
  CHECK(r.code == 0);
  for (const char* cmd : {"merge", "compare", "eval", "forward", "analyze", "cluster", "bench", "synth"})
    CHECK_THAT(r.out, Contains(std::string("\n  ") + cmd + " "));
  CHECK_THAT(r.out, Contains("exit codes"));
  CHECK_THAT(r.out, Contains("2    usage error"));
  CHECK_THAT(r.out, Contains("1    runtime failure"));

  const CliResult merge = runCli({"merge", "--help"});
  CHECK(merge.code == 0);
  CHECK_THAT(merge.out, Contains("--grouping clustering|random"));
  CHECK_THAT(merge.out, Contains("exit codes"));

  CHECK(runCli({}).code == 2);
  CHECK(runCli({"mrege"}).code == 2);
}

TEST_CASE("cli forward: logits of the tiny Mixtral equal transformers' reference") {
  const std::string out = (runDir() / "forward.h5").string();
  const std::string ref = hfTiny("mixtral") + "/reference.h5";
  const CliResult r =
      runCli({"forward", "--model", hfTiny("mixtral"), "--ids", ref + ":input_ids", "--out", out, "--device", "cpu"});
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("wrote"));
  moe::h5::File got(out, moe::h5::File::Mode::Read), want(ref, moe::h5::File::Mode::Read);
  const auto a = got.readFloat("logits"), b = want.readFloat("logits");
  REQUIRE(a.shape == b.shape);
  double maxErr = 0, maxRef = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    maxErr = std::max(maxErr, std::fabs(static_cast<double>(a.data[i]) - b.data[i]));
    maxRef = std::max(maxRef, std::fabs(static_cast<double>(b.data[i])));
  }
  CHECK(maxErr <= 1e-3 * maxRef);
  CHECK(got.readInt("router_logits/0").shape.back() == 8);  // one logit per expert
}

TEST_CASE("cli synth: writes the requested architecture and sizes, and the model runs") {
  const std::string dir = (runDir() / "synth-qwen2").string();
  const CliResult r = runCli({"synth", "--arch", "qwen2_moe", "--out", dir, "--layers", "2", "--hidden", "32",
                              "--experts", "4", "--top-k", "2", "--expert-intermediate", "16", "--heads", "4",
                              "--kv-heads", "2", "--vocab", "64", "--shared-intermediate", "24"});
  REQUIRE(r.code == 0);
  const auto cfg = readJson(fs::path(dir) / "config.json");
  CHECK(cfg["model_type"] == "qwen2_moe");
  CHECK(cfg["num_hidden_layers"] == 2);
  CHECK(cfg["hidden_size"] == 32);
  CHECK(cfg["num_experts"] == 4);
  CHECK(cfg["vocab_size"] == 64);
  std::set<std::string> experts;
  const std::regex expert(R"(model\.layers\.1\.mlp\.experts\.(\d+)\.)");
  for (const auto& n : tensorNames(dir)) {
    std::smatch m;
    if (std::regex_search(n, m, expert)) experts.insert(m[1]);
  }
  CHECK(experts == std::set<std::string>{"0", "1", "2", "3"});

  const std::string ids = writeIds((runDir() / "synth-ids.h5").string(), 2, 8, 64, 1);
  const std::string out = (runDir() / "synth-forward.h5").string();
  const CliResult f = runCli({"forward", "--model", dir, "--ids", ids, "--out", out, "--device", "cpu"});
  REQUIRE(f.code == 0);
  moe::h5::File h(out, moe::h5::File::Mode::Read);
  CHECK(h.shape("logits") == moe::h5::Shape{2, 8, 64});
}

TEST_CASE("cli analyze + cluster: every block's experts are partitioned into K groups") {
  const std::string analysis = mixtralAnalysis();
  const CliResult r = runCli({"cluster", analysis, "--experts", "3", "--json"});
  REQUIRE(r.code == 0);
  const auto blocks = nlohmann::json::parse(r.out);
  REQUIRE(blocks.size() == 3);  // the tiny Mixtral has 3 MoE layers
  for (const auto& b : blocks) {
    std::set<int64_t> seen;
    size_t members = 0;
    REQUIRE(b["groups"].size() == 3);
    for (const auto& g : b["groups"]) {
      CHECK(!g.empty());
      for (const auto& e : g) seen.insert(e.get<int64_t>());
      members += g.size();
    }
    CHECK(members == 8);
    CHECK(seen.size() == 8);
    CHECK(*seen.begin() == 0);
    CHECK(*seen.rbegin() == 7);
  }
  const CliResult one = runCli({"cluster", analysis, "--experts", "2", "--layers", "1"});
  REQUIRE(one.code == 0);
  CHECK_THAT(one.out, Contains("block 1 (layer 1): 8 -> 2:"));
  CHECK(one.out.find("block 0") == std::string::npos);
}

TEST_CASE("cli merge: a compact export keeps K experts in the source layout") {
  const std::string out = (runDir() / "merged-compact").string();
  const CliResult r = runCli({"merge", "--model", hfTiny("mixtral"), "--analysis", mixtralAnalysis(), "--experts", "4",
                              "--out", out, "--device", "cpu"});
  REQUIRE(r.code == 0);
  CHECK(readJson(fs::path(out) / "config.json")["num_local_experts"] == 4);
  std::vector<int64_t> shape;
  readTensor(out, "model.layers.2.block_sparse_moe.gate.weight", &shape);
  CHECK(shape == std::vector<int64_t>{4, 64});
  const auto names = tensorNames(out);
  const std::set<std::string> all(names.begin(), names.end());
  CHECK(all.count("model.layers.0.block_sparse_moe.experts.3.w1.weight"));
  CHECK(!all.count("model.layers.0.block_sparse_moe.experts.4.w1.weight"));
  // Tensors outside the MoE blocks are copied unchanged.
  CHECK(readTensor(out, "model.embed_tokens.weight") == readTensor(hfTiny("mixtral"), "model.embed_tokens.weight"));
}

TEST_CASE("cli eval and compare: the original model's perplexity agrees between the two commands") {
  // Tiny sizes: 2 held-out sequences of 64 tokens, 4 x 64 calibration tokens, one K.
  const CliResult eval = runCli({"eval", "--model", demoModel(), "--text", demoFile("eval.jsonl"), "--sequences", "2",
                                 "--length", "64", "--device", "cpu"});
  REQUIRE(eval.code == 0);
  CHECK_THAT(eval.out, Contains("2 sequences of 64 tokens"));
  const double ppl = numberAfter(eval.out, "perplexity");
  REQUIRE(std::isfinite(ppl));
  CHECK(ppl > 1.0);

  const CliResult cmp = runCli({"compare", "--model", demoModel(), "--calib", demoFile("calib.jsonl"), "--sequences", "4",
                                "--length", "64", "--text", demoFile("eval.jsonl"), "--eval-sequences", "2",
                                "--experts", "8", "--device", "cpu"});
  REQUIRE(cmp.code == 0);
  std::vector<std::string> rows;
  for (const auto& l : lines(cmp.out))
    if (std::regex_search(l, std::regex(R"(^\s*\d+\s)"))) rows.push_back(l);
  // original + 3 HC-SMoE linkages + 2 compact routers + REAM tied and compact + logit/weight similarity
  // + random + F-prune + REAP
  REQUIRE(rows.size() == 13);
  CHECK_THAT(rows[0], Contains("original"));
  CHECK_THAT(rows[6], Contains("REAM (tied)"));
  CHECK_THAT(rows[7], Contains("REAM, compact, centroid router rows"));
  std::istringstream first(rows[0]);
  std::string k, name;
  double comparePpl = 0;
  first >> k >> name >> comparePpl;
  CHECK(std::fabs(comparePpl - ppl) <= 0.006);  // compare prints 2 decimals, eval 3
  std::smatch params;
  REQUIRE(std::regex_search(rows[0], params, std::regex(R"(\s-\s+([0-9.]+) M\s*$)")));  // no KL for the original
  const double originalParams = std::stod(params[1]);
  for (size_t i = 1; i < rows.size(); ++i) {
    CHECK(rows[i].rfind("   8  ", 0) == 0);
    // Every merged row: finite perplexity, KL >= 0, top-1 agreement in [0, 100] %, a mean identical
    // prefix within the 32 generated tokens, ROUGE-L in [0, 1], and fewer parameters than the original.
    const std::regex cells(
        R"(\s([0-9.]+)\s+[+-][0-9.]+ %\s+([0-9.]+)\s+([0-9.]+) %\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+) M\s*$)");
    std::smatch m;
    REQUIRE(std::regex_search(rows[i], m, cells));
    CHECK(std::stod(m[1]) > 1.0);
    CHECK(std::stod(m[2]) >= 0.0);
    CHECK(std::stod(m[3]) <= 100.0);
    CHECK(std::stod(m[4]) <= 32.0);
    CHECK(std::stod(m[5]) <= 1.0);
    CHECK(std::stod(m[6]) < originalParams);
  }
}

TEST_CASE("cli bench: runs on an existing tiny model") {
  const std::string dir = (runDir() / "bench-model").string();
  REQUIRE(runCli({"synth", "--arch", "qwen2_moe", "--out", dir, "--layers", "1", "--hidden", "32", "--experts", "4",
                  "--expert-intermediate", "16", "--heads", "4", "--kv-heads", "2", "--vocab", "64"})
              .code == 0);
  const CliResult r = runCli({"bench", "--model-dir", dir, "--layers", "1", "--sequences", "1", "--length", "16",
                              "--device", "cpu"});
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("qwen2_moe, 1 layers (hidden 32, 4 x 16 experts, top-"));
  CHECK_THAT(r.out, Contains("1 x 16 tokens"));
  CHECK(numberAfter(r.out, "tokens/s") > 0);
  CHECK_THAT(r.out, Contains("weights               as cached, staging auto"));
  // The split of the rest: disjoint parts of the analysis time, so what is left over is not negative.
  CHECK(numberAfter(r.out, "of which          attention") >= 0);
  CHECK(numberAfter(r.out, "s, other") >= -0.005);
  // The copies path, from a cold page cache.
  const CliResult copied = runCli({"bench", "--model-dir", dir, "--layers", "1", "--sequences", "1", "--length", "16",
                                   "--device", "cpu", "--staging", "copy", "--cold"});
  REQUIRE(copied.code == 0);
  CHECK_THAT(copied.out, Contains("read from disk (--cold), staging copy (the next layer copied to the device"));
  CHECK_THAT(copied.out, !Contains("staging stopped"));
}
