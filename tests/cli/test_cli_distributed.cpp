// analyze --nproc 2: the calibration sequences split over two processes (Gloo over loopback) must
// give the statistics of one process on all of them: selection counts exactly, every other
// statistic within rounding (the per-block sums are all-reduced before the means are formed).
// Also across a resume (a 2-process run killed part-way, resumed by another) and on failures.
#include <cmath>
#include <filesystem>
#include <regex>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>

#include "core/analysis/analyzer.h"
#include "core/analysis/distributed.h"
#include "core/analysis/store.h"
#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/io/h5file.h"
#include "tests/catch.h"
#include "tests/cli/cli_fixtures.h"
#include "tests/cli/cli_runner.h"

namespace fs = std::filesystem;
using moe::test::Contains;
using namespace moe::test;

namespace {

// max |a - b| <= tol * max(1, max |b|), element by element, with the first offender in the message.
void checkClose(const std::vector<double>& a, const std::vector<double>& b, double tol, const std::string& what) {
  INFO(what);
  REQUIRE(a.size() == b.size());
  double scale = 1;
  for (double y : b) scale = std::max(scale, std::fabs(y));
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("element " << i << ": " << a[i] << " vs " << b[i]);
    REQUIRE(std::fabs(a[i] - b[i]) <= tol * scale);
  }
}

// Every block of `got` against `want`, read with the project's store reader.
void compareStores(const std::string& got, const std::string& want, int blocks) {
  const moe::AnalysisStore a = moe::AnalysisStore::open(got), b = moe::AnalysisStore::open(want);
  REQUIRE(b.completedLayers().size() == static_cast<size_t>(blocks));
  REQUIRE(a.completedLayers() == b.completedLayers());
  CHECK(a.info().calibrationFingerprint == b.info().calibrationFingerprint);
  CHECK(a.info().tokenIds == b.info().tokenIds);
  for (int j = 0; j < blocks; ++j) {
    INFO("MoE block " << j);
    const moe::LayerStats x = a.readLayer(j), y = b.readLayer(j);
    CHECK(x.tokens == y.tokens);
    CHECK(x.selectionCounts == y.selectionCounts);  // integers: exactly
    CHECK(x.weightParamsPerExpert == y.weightParamsPerExpert);
    const double tol = 1e-5;
    checkClose(x.usageFrequency, y.usageFrequency, tol, "usage frequency");
    checkClose(x.softUsage, y.softUsage, tol, "soft usage");
    checkClose(x.reapScore, y.reapScore, tol, "REAP");
    checkClose(x.expertOutputMean.data, y.expertOutputMean.data, tol, "expert output mean");
    checkClose(x.expertOutputMeanRouted.data, y.expertOutputMeanRouted.data, tol, "routed expert output mean");
    checkClose(x.routerLogitGram.data, y.routerLogitGram.data, tol, "router logit Gram");
    checkClose(x.weightGram.data, y.weightGram.data, 1e-12, "weight Gram");  // same weights, same code
  }
  // Everything else the store holds per block (distances, linkages) within the same tolerance.
  moe::h5::File fa(got, moe::h5::File::Mode::Read), fb(want, moe::h5::File::Mode::Read);
  size_t compared = 0;
  for (const auto& block : fb.children("/layers"))
    for (const auto& name : fb.children("/layers/" + block)) {
      const std::string path = "/layers/" + block + "/" + name;
      if (!fb.isDataset(path)) continue;
      REQUIRE(fa.isDataset(path));
      checkClose(fa.readDouble(path).data, fb.readDouble(path).data, 1e-5, path);
      ++compared;
    }
  CHECK(compared >= static_cast<size_t>(blocks) * 8);
}

int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("shardSequences: every calibration sequence goes to exactly one rank, i to rank i mod N") {
  const at::Tensor ids = at::arange(7, at::kLong).unsqueeze(1).repeat({1, 3});  // row i holds i
  std::multiset<int64_t> seen;
  for (int r = 0; r < 3; ++r) {
    const at::Tensor share = moe::shardSequences(ids, r, 3);
    CHECK(share.size(1) == 3);
    for (int64_t i = 0; i < share.size(0); ++i) {
      const int64_t row = share[i][0].item<int64_t>();
      CHECK(row % 3 == r);
      seen.insert(row);
    }
  }
  CHECK(seen == std::multiset<int64_t>{0, 1, 2, 3, 4, 5, 6});
  CHECK_THROWS_AS(moe::shardSequences(ids, 0, 8), moe::Error);
}

TEST_CASE("runAnalysisDistributed in a one-process Gloo group: runAnalysis's statistics; a cancel stops it") {
  moe::DistributedConfig c;
  c.masterPort = freePort();
  c.timeout = std::chrono::seconds(30);
  const auto comm = moe::Communicator::connect(c);
  REQUIRE(comm->rank() == 0);
  REQUIRE(comm->worldSize() == 1);
  at::Tensor t = at::tensor({1.5, -2.0}, at::kDouble);
  comm->allReduceSum(t);
  comm->broadcast(t, 0);
  comm->barrier();
  CHECK(t[0].item<double>() == 1.5);
  CHECK(t[1].item<double>() == -2.0);

  const std::string folder = hfTiny("mixtral");
  auto model = moe::Model::open(folder, moe::Runtime::make("cpu", "fp32"));
  moe::h5::File ref(folder + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
  const at::Tensor ids = moe::readIntTensor(ref, "calib_ids");
  const size_t blocks = model->moeLayers().size();
  // Block 0 done already, in both runs: a skipped block's output comes from its own forward pass, a
  // computed one's from the expert evaluation (other product shapes, other float32 rounding).
  TempDir dir("dist-one-rank");
  auto store = moe::AnalysisStore::create(dir / "single.h5", moe::describeAnalysis(*model, ids, {}));
  store.writeLayer(moe::runAnalysis(*model, ids, {}).layers.at(0));
  const auto want = moe::runAnalysis(*model, ids, {}, &store).layers;
  REQUIRE(want.size() == blocks - 1);
  std::vector<bool> skip(blocks, false);
  skip[0] = true;
  const auto got = moe::runAnalysisDistributed(*model, ids, ids.numel(), {}, *comm, skip).layers;
  REQUIRE(got.size() == blocks - 1);
  for (const auto& g : got) {
    INFO("MoE block " << g.moeIndex);
    const auto& w = want.at(static_cast<size_t>(g.moeIndex) - 1);
    CHECK(w.moeIndex == g.moeIndex);
    CHECK(g.moeIndex != 0);
    CHECK(g.selectionCounts == w.selectionCounts);
    CHECK(g.tokens == w.tokens);
    // One rank: the same sums, so the same numbers (weight Grams included: rank 0 computes them).
    checkClose(g.softUsage, w.softUsage, 1e-12, "soft usage");
    checkClose(g.reapScore, w.reapScore, 1e-12, "REAP");
    checkClose(g.expertOutputMean.data, w.expertOutputMean.data, 1e-12, "expert output mean");
    checkClose(g.expertOutputMeanRouted.data, w.expertOutputMeanRouted.data, 1e-12, "routed mean");
    checkClose(g.routerLogitGram.data, w.routerLogitGram.data, 1e-12, "logit Gram");
    checkClose(g.weightGram.data, w.weightGram.data, 1e-12, "weight Gram");
  }
  std::atomic<bool> cancel{true};
  try {
    moe::runAnalysisDistributed(*model, ids, ids.numel(), {}, *comm, std::vector<bool>(blocks, false), nullptr, {},
                                &cancel);
    FAIL("a cancelled distributed analysis returned");
  } catch (const moe::Error& e) {
    CHECK(e.kind() == moe::ErrorKind::Cancelled);
  }
}

TEST_CASE("cli analyze --nproc 2: two Gloo processes give the single-process statistics, also after a resume") {
  TempDir dir("cli-dist");
  const std::string model = dir / "model";
  REQUIRE(runCli({"synth", "--arch", "mixtral", "--out", model, "--layers", "4", "--hidden", "256", "--experts", "8",
                  "--expert-intermediate", "512", "--vocab", "256", "--seed", "3"})
              .code == 0);
  // 7 sequences: the ranks get 4 and 3 (an uneven split must still cover every sequence once).
  const std::string ids = dir / "calib.h5";
  writeIds(ids, 7, 256, 256, 11);
  auto analyze = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> a{"analyze", "--model", model, "--calib", ids + ":ids", "--out", out, "--device", "cpu"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const std::string single = dir / "single.h5", dist = dir / "dist.h5", resumed = dir / "resumed.h5";
  const CliResult one = runCli(analyze(single, {"--threads", "1"}));
  REQUIRE(one.code == 0);

  const CliResult two = runCli(analyze(dist, {"--nproc", "2"}));
  INFO(two.out << two.err);
  REQUIRE(two.code == 0);
  CHECK_THAT(two.out, Contains("distributed 2 processes"));
  compareStores(dist, single, 4);

  // A 2-process run killed after its first block, resumed by another 2-process run. Killing the
  // launcher takes its ranks with it.
  {
    CliProcess p(analyze(resumed, {"--nproc", "2"}), dir.path());
    REQUIRE(waitFor([&] { return p.err().find("MoE 1/4") != std::string::npos || !p.running(); }, 60));
    REQUIRE(p.running());  // else the model is too small to interrupt: the test would prove nothing
    p.kill9();
    CHECK(p.err().find("MoE 4/4") == std::string::npos);
  }
  const CliResult again = runCli(analyze(resumed, {"--nproc", "2", "--dist-timeout", "30"}));
  INFO(again.out << again.err);
  REQUIRE(again.code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(again.out, m, std::regex(R"(resuming .*: (\d) of 4 MoE blocks already analysed)")));
  CHECK(std::stoi(m[1]) >= 1);
  CHECK(std::stoi(m[1]) <= 3);
  compareStores(resumed, single, 4);
}

TEST_CASE("cli analyze --nproc: failures name the rank and stop the other ranks instead of leaving them waiting") {
  TempDir dir("cli-dist-errors");
  const std::string model = hfTiny("mixtral");
  const std::string ids = writeIds(dir / "calib.h5", 2, 16, 512, 5);
  auto analyze = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> a{"analyze", "--model", model, "--calib", ids, "--out", out, "--device", "cpu"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const std::string store = dir / "a.h5";
  REQUIRE(runCli(analyze(store, {"--threads", "1"})).code == 0);
  // Rank 0 refuses to resume a store made with another statistic; rank 1 is told, not left waiting.
  const CliResult stale = runCli(analyze(store, {"--nproc", "2", "--stat", "routed", "--dist-timeout", "60"}), 50);
  INFO(stale.out << stale.err);
  CHECK(stale.code == 1);
  CHECK_THAT(stale.err, Contains("rank 0 of 2"));
  CHECK_THAT(stale.err, Contains("--stat"));
  // Three processes for two sequences.
  const CliResult many = runCli(analyze(dir / "b.h5", {"--nproc", "3", "--threads", "1"}), 50);
  INFO(many.out << many.err);
  CHECK(many.code == 2);
  CHECK_THAT(many.err, Contains("2 calibration sequences cannot be shared by 3 processes"));
  CHECK_THAT(many.err, Contains("rank "));
  CHECK_FALSE(fs::exists(dir / "b.h5"));  // checked before rank 0 creates the store
}
