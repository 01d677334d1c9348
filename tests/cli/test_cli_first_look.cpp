// analyze --first-look: the quick store holds exactly an analysis of the first sequences, the full
// store follows (equal to a plain analysis), and the printed agreement at K = E/2 is recomputed here
// from both stores.
#include "tests/catch.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/analysis/clustering.h"
#include "core/analysis/store.h"
#include "core/cluster/tree.h"
#include "tests/cli/cli_fixtures.h"
#include "tests/cli/cli_runner.h"

namespace fs = std::filesystem;
using moe::test::Contains;
using namespace moe::test;

namespace {

std::vector<moe::LayerStats> layersOf(const std::string& path) {
  const moe::AnalysisStore s = moe::AnalysisStore::open(path);
  std::vector<moe::LayerStats> out;
  for (int j : s.completedLayers()) out.push_back(s.readLayer(j));
  return out;
}

// Whether experts i and j share a group, for every pair: equal matrices = the same partition.
std::vector<bool> together(const std::vector<int64_t>& labels) {
  std::vector<bool> t;
  for (size_t i = 0; i < labels.size(); ++i)
    for (size_t j = i + 1; j < labels.size(); ++j) t.push_back(labels[i] == labels[j]);
  return t;
}

}  // namespace

TEST_CASE("cli analyze --first-look: the first sequences' store, then the full one, and their agreement") {
  const std::string out = (runDir() / "first-look.h5").string();
  const std::string quick = (runDir() / "first-look.first-look.h5").string();
  const std::vector<std::string> common{"analyze", "--model", demoModel(), "--calib", demoFile("calib.jsonl"),
                                        "--length", "64", "--device", "cpu"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = common;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const CliResult r = runCli(with({"--sequences", "4", "--out", out, "--first-look", "1"}));
  REQUIRE(r.code == 0);
  REQUIRE(fs::exists(quick));
  CHECK_THAT(r.out, Contains("first look  " + quick + " ready after"));

  // The quick store is an analysis of the first sequence alone (the default protocol takes the
  // first sequences x length tokens, so --sequences 1 reads the same tokens).
  const std::string one = (runDir() / "one-sequence.h5").string();
  REQUIRE(runCli(with({"--sequences", "1", "--out", one})).code == 0);
  const auto q = layersOf(quick), o = layersOf(one), f = layersOf(out);
  REQUIRE(q.size() == o.size());
  REQUIRE(q.size() == f.size());
  REQUIRE(!q.empty());
  for (size_t b = 0; b < q.size(); ++b) {
    CHECK(q[b].tokens == 64);
    CHECK(f[b].tokens == 4 * 64);
    CHECK(q[b].selectionCounts == o[b].selectionCounts);
    REQUIRE(q[b].expertOutputMean.data.size() == o[b].expertOutputMean.data.size());
    for (size_t i = 0; i < q[b].expertOutputMean.data.size(); ++i)
      CHECK(q[b].expertOutputMean.data[i] == Approx(o[b].expertOutputMean.data[i]).margin(1e-9));
  }

  // The full store equals a plain analysis of the same sequences: the second pass runs on the model
  // and token ids the first pass used (opened and tokenized once), and that must not change it.
  const std::string plain = (runDir() / "plain.h5").string();
  REQUIRE(runCli(with({"--sequences", "4", "--out", plain})).code == 0);
  const auto p = layersOf(plain);
  REQUIRE(p.size() == f.size());
  for (size_t b = 0; b < f.size(); ++b) {
    CHECK(f[b].selectionCounts == p[b].selectionCounts);
    REQUIRE(f[b].expertOutputMean.data.size() == p[b].expertOutputMean.data.size());
    for (size_t i = 0; i < f[b].expertOutputMean.data.size(); ++i)
      CHECK(f[b].expertOutputMean.data[i] == Approx(p[b].expertOutputMean.data[i]).margin(1e-9));
  }

  // The agreement line: identical partitions and the Rand index (pairs treated alike), here by hand.
  int identical = 0;
  double randSum = 0;
  for (size_t b = 0; b < q.size(); ++b) {
    const int64_t k = std::max<int64_t>(1, f[b].numExperts / 2);
    const auto a = together(moe::cutTree(moe::buildLayerTree(q[b], moe::ClusteringChoice{}).linkage, k));
    const auto c = together(moe::cutTree(moe::buildLayerTree(f[b], moe::ClusteringChoice{}).linkage, k));
    size_t agree = 0;
    for (size_t i = 0; i < a.size(); ++i) agree += a[i] == c[i] ? 1 : 0;
    identical += a == c ? 1 : 0;
    randSum += static_cast<double>(agree) / static_cast<double>(a.size());
  }
  char expected[200];
  std::snprintf(expected, sizeof expected, "identical to the full analysis' in %d of %zu MoE blocks; mean Rand index %.4f",
                identical, q.size(), randSum / static_cast<double>(q.size()));
  CHECK_THAT(r.out, Contains(expected));

  // Not with several processes, and a count of at least 1.
  const CliResult nproc = runCli(with({"--sequences", "4", "--out", out, "--first-look", "1", "--nproc", "2"}));
  CHECK(nproc.code != 0);
  CHECK_THAT(nproc.err, Contains("--first-look"));
  const CliResult zero = runCli(with({"--sequences", "4", "--out", out, "--first-look", "0"}));
  CHECK(zero.code != 0);
  CHECK_THAT(zero.err, Contains("--first-look"));
}
