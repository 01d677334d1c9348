// moescope-cli generate: the side-by-side preview of the original and a plan's merge, and its
// refusals of bad input, each with its own message.
#include <filesystem>
#include <fstream>

#include "core/engine/tensor_h5.h"
#include "core/io/h5file.h"
#include "tests/catch.h"
#include "tests/cli/cli_fixtures.h"
#include "tests/cli/cli_runner.h"

namespace fs = std::filesystem;
using moe::test::Contains;
using namespace moe::test;

TEST_CASE("cli: generate prints the original's greedy continuation as transformers does, beside the merges") {
  // The demo's transformers reference (tests/data/generation/demo-moe.h5): prompt 1 and its tokens.
  moe::h5::File ref(std::string(MOESCOPE_TEST_DATA) + "/generation/demo-moe.h5", moe::h5::File::Mode::Read);
  const auto ids = ref.readInt("prompt_ids");
  const auto lengths = ref.readInt("prompt_lengths");
  const auto tokens = ref.readInt("new_tokens");
  const int64_t width = ref.shape("prompt_ids")[1], n = ref.shape("new_tokens")[1];
  std::string prompt, expected;
  for (int64_t i = 0; i < lengths.data[0]; ++i) prompt += (i ? " " : "") + std::to_string(ids.data[static_cast<size_t>(i)]);
  for (int64_t i = 0; i < n; ++i) expected += (i ? " " : "") + std::to_string(tokens.data[static_cast<size_t>(i)]);
  (void)width;
  const CliResult r = runCli({"generate", "--model", demoModel(), "--calib", demoFile("calib.jsonl"), "--sequences", "4",
                              "--experts", "8", "--ids", "--prompt", prompt, "--max-new-tokens", std::to_string(n)});
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("original           " + expected));
  CHECK_THAT(r.out, Contains("merged (tied)"));
  CHECK_THAT(r.out, Contains("merged (compact)"));
  CHECK_THAT(r.out, Contains("ROUGE-L"));
}

TEST_CASE("cli: generate refuses bad input, each with its own message") {
  const fs::path dir = runDir() / "generate";
  fs::create_directories(dir);
  std::ofstream((dir / "empty.txt").string()) << "\n\n";
  std::string longPrompt;
  for (int i = 0; i < 1030; ++i) longPrompt += "5 ";  // the demo's context is 1024 positions
  // A plan of the 8-expert mixtral fixture does not fit the 16-expert demo.
  const std::string plan = (dir / "mixtral-plan.json").string();
  const CliResult saved = runCli({"merge", "--model", hfTiny("mixtral"), "--analysis", mixtralAnalysis(), "--experts", "4",
                                  "--save-plan", plan, "--out", (dir / "m").string()});
  REQUIRE(saved.code == 0);
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
  };
  const std::vector<Case> cases{
      {{"--prompts", (dir / "empty.txt").string(), "--original-only"}, 2, "empty.txt"},
      {{"--ids", "--prompt", longPrompt, "--original-only"}, 2, "max_position_embeddings"},
      {{"--prompt", "Hello", "--original-only", "--max-new-tokens", "0"}, 2, "--max-new-tokens"},
      {{"--prompt", "Hello", "--plan", plan}, 1, "made for another model"},
      {{"--prompt", "Hello"}, 2, "--original-only"},
      {{"--prompt", "Hello", "--prompts", (dir / "empty.txt").string(), "--original-only"}, 2, "exactly one"},
      {{"--prompt", "Hello", "--original-only", "--weak-top-k", "3"}, 2, "num_experts_per_tok"},
      {{"--prompt", "Hello", "--original-only", "--top-p", "1.5"}, 2, "top-p"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"generate", "--model", demoModel()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    std::string cmd;
    for (const auto& a : args) cmd += " " + (a.size() > 60 ? a.substr(0, 60) + "..." : a);
    INFO("moescope-cli" << cmd);
    const CliResult r = runCli(args);
    INFO("stderr: " << r.err);
    CHECK(r.code == c.code);
    CHECK_THAT(r.err, Contains(c.message));
  }
}
