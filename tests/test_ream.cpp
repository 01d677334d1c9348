// Neuron alignment before merging (core/merge/neuron_alignment.h) and the REAM strategy.
// References are independent of the code under test: brute force over all permutations and a
// Bellman-Ford min-cost-flow assignment written here, groups and centroids worked out by hand,
// permutations whose inverse the test knows, weights averaged by hand.
#include "tests/catch_torch.h"
#include "tests/fixtures.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/analysis/analyzer.h"
#include "core/analysis/store.h"
#include "core/engine/model.h"
#include "core/error.h"
#include "core/merge/export.h"
#include "core/merge/merge.h"
#include "core/merge/neuron_alignment.h"
#include "core/merge/plan.h"
#include "core/merge/plan_builder.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

double assignmentCost(const std::vector<double>& c, int64_t n, const std::vector<int64_t>& col) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += c[static_cast<size_t>(i * n + col[static_cast<size_t>(i)])];
  return s;
}

bool isPermutation(std::vector<int64_t> p, int64_t n) {
  if (static_cast<int64_t>(p.size()) != n) return false;
  std::sort(p.begin(), p.end());
  for (int64_t i = 0; i < n; ++i)
    if (p[static_cast<size_t>(i)] != i) return false;
  return true;
}

// Reference assignment: successive shortest paths with Bellman-Ford on the residual graph of the
// bipartite flow network (source -> rows -> columns -> sink); the optimal total cost.
double minCostFlowAssignment(const std::vector<double>& c, int n) {
  struct Edge { int to; int cap; double cost; };
  const int S = 2 * n, T = 2 * n + 1, V = 2 * n + 2;
  std::vector<Edge> edges;
  std::vector<std::vector<int>> adj(static_cast<size_t>(V));
  auto add = [&](int a, int b, double w) {
    adj[static_cast<size_t>(a)].push_back(static_cast<int>(edges.size()));
    edges.push_back({b, 1, w});
    adj[static_cast<size_t>(b)].push_back(static_cast<int>(edges.size()));
    edges.push_back({a, 0, -w});
  };
  for (int i = 0; i < n; ++i) add(S, i, 0);
  for (int j = 0; j < n; ++j) add(n + j, T, 0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) add(i, n + j, c[static_cast<size_t>(i * n + j)]);
  double total = 0;
  for (int f = 0; f < n; ++f) {
    std::vector<double> dist(static_cast<size_t>(V), std::numeric_limits<double>::infinity());
    std::vector<int> via(static_cast<size_t>(V), -1);
    dist[static_cast<size_t>(S)] = 0;
    for (int it = 0; it < V; ++it) {
      bool changed = false;
      for (int a = 0; a < V; ++a) {
        if (dist[static_cast<size_t>(a)] == std::numeric_limits<double>::infinity()) continue;
        for (int e : adj[static_cast<size_t>(a)]) {
          const Edge& E = edges[static_cast<size_t>(e)];
          if (E.cap > 0 && dist[static_cast<size_t>(a)] + E.cost < dist[static_cast<size_t>(E.to)] - 1e-15) {
            dist[static_cast<size_t>(E.to)] = dist[static_cast<size_t>(a)] + E.cost;
            via[static_cast<size_t>(E.to)] = e;
            changed = true;
          }
        }
      }
      if (!changed) break;
    }
    for (int v = T; v != S;) {
      const int e = via[static_cast<size_t>(v)];
      edges[static_cast<size_t>(e)].cap -= 1;
      edges[static_cast<size_t>(e ^ 1)].cap += 1;
      v = edges[static_cast<size_t>(e ^ 1)].to;
    }
    total += dist[static_cast<size_t>(T)];
  }
  return total;
}

// A tiny random MoE block: E experts, hidden H, intermediate I (float32, CPU).
moe::MoeBlock randomBlock(int64_t E, int64_t H, int64_t I, bool biases, moe::ExpertActivation act, uint64_t seed) {
  at::manual_seed(seed);
  moe::MoeBlock b;
  b.routerWeight = at::randn({E, H});
  b.routerBias = at::randn({E});
  b.routing.topK = 2;
  b.gate = at::randn({E, I, H}) * 0.5;
  b.up = at::randn({E, I, H}) * 0.5;
  b.down = at::randn({E, H, I}) * 0.5;
  if (biases) {
    b.gateBias = at::randn({E, I}) * 0.1;
    b.upBias = at::randn({E, I}) * 0.1;
    b.downBias = at::randn({E, H}) * 0.1;
  }
  b.activation = act;
  return b;
}

// Expert `dst` becomes expert `src` with its neurons reordered: dst's neuron j = src's neuron q[j].
void makePermutedCopy(moe::MoeBlock& b, int64_t src, int64_t dst, const std::vector<int64_t>& q) {
  const at::Tensor idx = at::tensor(q, at::kLong);
  b.gate[dst].copy_(b.gate[src].index_select(0, idx));
  b.up[dst].copy_(b.up[src].index_select(0, idx));
  b.down[dst].copy_(b.down[src].index_select(1, idx));
  if (b.gateBias.defined()) {
    b.gateBias[dst].copy_(b.gateBias[src].index_select(0, idx));
    b.upBias[dst].copy_(b.upBias[src].index_select(0, idx));
    b.downBias[dst].copy_(b.downBias[src]);
  }
}

double maxAbsDiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

TEST_CASE("the assignment solver finds the brute-force optimum of random 6x6 matrices", "[ream][hungarian]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::uniform_int_distribution<int> small(0, 3);  // many ties
  const int64_t n = 6;
  for (int trial = 0; trial < 60; ++trial) {
    std::vector<double> c(static_cast<size_t>(n * n));
    for (auto& v : c) v = trial % 3 == 2 ? small(rng) : uni(rng) * (trial % 3 == 1 ? 1e3 : 1.0);
    std::vector<int64_t> perm(static_cast<size_t>(n));
    std::iota(perm.begin(), perm.end(), 0);
    double best = std::numeric_limits<double>::infinity();
    do best = std::min(best, assignmentCost(c, n, perm));
    while (std::next_permutation(perm.begin(), perm.end()));
    const auto col = moe::solveAssignment(c, n);
    REQUIRE(isPermutation(col, n));
    CHECK(assignmentCost(c, n, col) == Approx(best).margin(1e-9 * (1 + std::abs(best))));
  }
}

TEST_CASE("the assignment solver agrees with a min-cost flow on larger matrices; bad input is refused", "[ream][hungarian]") {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  for (int n : {1, 2, 17, 40}) {
    std::vector<double> c(static_cast<size_t>(n * n));
    for (auto& v : c) v = normal(rng);
    const auto col = moe::solveAssignment(c, n);
    REQUIRE(isPermutation(col, n));
    CHECK(assignmentCost(c, n, col) == Approx(minCostFlowAssignment(c, n)).margin(1e-9));
  }
  CHECK(moe::solveAssignment({}, 0).empty());
  CHECK_THROWS_AS(moe::solveAssignment({1.0, 2.0, 3.0}, 2), moe::Error);
  CHECK_THROWS_AS(moe::solveAssignment({1.0, std::nan(""), 3.0, 4.0}, 2), moe::Error);
}

TEST_CASE("an expert and a neuron-permuted copy of it merge back to that expert with alignment only", "[ream][align]") {
  for (auto act : {moe::ExpertActivation::SiLU, moe::ExpertActivation::GptOssClampedGLU}) {
    const bool biases = act == moe::ExpertActivation::GptOssClampedGLU;
    const int64_t E = 4, H = 8, I = 6;
    moe::MoeBlock block = randomBlock(E, H, I, biases, act, 3);
    const std::vector<int64_t> q = {3, 0, 5, 1, 4, 2};
    std::vector<int64_t> qInverse(q.size());
    for (size_t j = 0; j < q.size(); ++j) qInverse[static_cast<size_t>(q[j])] = static_cast<int64_t>(j);
    makePermutedCopy(block, 0, 1, q);
    const at::Tensor x = at::randn({96, H});

    // Expert 0 is the most used of group 0, so it is the reference; 0.5 / 0.5 averages exactly.
    moe::LayerPlan lp = moe::mergeLayerPlan(0, {0, 0, 1, 2}, moe::MergeStrategy::Average, {0.4, 0.2, 0.3, 0.1});
    CHECK(moe::alignmentReferences(lp) == std::vector<int64_t>{0, 2, 3});
    lp.alignNeurons = true;
    CHECK_THROWS_WITH(moe::applyLayerPlan(block, lp, moe::MergeSemantics::Compact),
                      moe::test::Contains("align_neurons"));
    const moe::NeuronPermutations perms = moe::alignBlockNeurons(block, lp, x);
    REQUIRE(perms.size() == 4);
    CHECK(perms[0].empty());
    CHECK(perms[1] == qInverse);
    CHECK(perms[2].empty());
    CHECK(perms[3].empty());
    // The aligned copy is the original, bit for bit.
    const moe::MoeBlock permuted = moe::permuteExpertNeurons(block, perms);
    CHECK(at::equal(permuted.gate[1], block.gate[0]));
    CHECK(at::equal(permuted.up[1], block.up[0]));
    CHECK(at::equal(permuted.down[1], block.down[0]));
    if (biases) CHECK(at::equal(permuted.gateBias[1], block.gateBias[0]));
    if (biases) CHECK(at::equal(permuted.upBias[1], block.upBias[0]));

    lp.neuronPermutation = std::make_shared<const moe::NeuronPermutations>(perms);
    for (auto sem : {moe::MergeSemantics::Compact, moe::MergeSemantics::Tied}) {
      const moe::MoeBlock merged = moe::applyLayerPlan(block, lp, sem);
      CHECK(at::equal(merged.gate[0], block.gate[0]));
      CHECK(at::equal(merged.up[0], block.up[0]));
      CHECK(at::equal(merged.down[0], block.down[0]));
      if (biases) CHECK(at::equal(merged.gateBias[0], block.gateBias[0]));
      CHECK(maxAbsDiff(merged.applySlot(0, x), block.applyExpert(0, x)) == 0.0);
    }
    moe::LayerPlan plain = lp;
    plain.alignNeurons = false;
    const moe::MoeBlock unaligned = moe::applyLayerPlan(block, plain, moe::MergeSemantics::Compact);
    CHECK(maxAbsDiff(unaligned.gate[0], block.gate[0]) > 0.1);
    CHECK(maxAbsDiff(unaligned.applySlot(0, x), block.applyExpert(0, x)) > 1e-2);
  }
}

TEST_CASE("neuron permutations preserve every expert's function; bad permutations are refused", "[ream][align]") {
  moe::MoeBlock block = randomBlock(3, 8, 5, true, moe::ExpertActivation::GptOssClampedGLU, 5);
  block.expertSlot = {0, 0, 2};  // a tied block: experts 0 and 1 share slot 0
  const at::Tensor x = at::randn({20, 8});
  const moe::NeuronPermutations perms = {{4, 3, 2, 1, 0}, {1, 2, 3, 4, 0}, {}};
  const moe::MoeBlock p = moe::permuteExpertNeurons(block, perms);
  CHECK(p.expertSlot.empty());
  for (int64_t e = 0; e < 3; ++e) CHECK(maxAbsDiff(p.applyExpert(e, x), block.applyExpert(e, x)) < 1e-5);
  CHECK(at::equal(p.gate[1][0], block.gate[0][1]));  // expert 1 read through its slot 0
  CHECK_THROWS_AS(moe::permuteExpertNeurons(block, {{0, 0, 1, 2, 3}, {}, {}}), moe::Error);
  CHECK_THROWS_AS(moe::permuteExpertNeurons(block, {{0, 1, 2}, {}, {}}), moe::Error);
  CHECK_THROWS_AS(moe::permuteExpertNeurons(block, {{}, {}}), moe::Error);
}

namespace {

// Hand-made statistics: 6 experts, 2-d mean outputs on a line.
//   REAP scores 0.5 0.1 0.9 0.2 0.7 0.05 -> K = 2 centroids: experts 2 (0.9) and 4 (0.7), group 0
//   and group 1 (ascending expert order). Mean outputs x = 0, 10, 1, 6, 8, 4.5:
//   expert 0: |0-1| = 1 < |0-8| = 8 -> group 0;  expert 1: 9 > 2 -> group 1;  expert 3: 5 > 2 -> group 1;
//   expert 5: 3.5 = 3.5, a tie -> the lower group 0.
moe::LayerStats handStats() {
  moe::LayerStats s;
  s.moeIndex = 0;
  s.layer = 1;
  s.numExperts = 6;
  s.hidden = 2;
  s.reapScore = {0.5, 0.1, 0.9, 0.2, 0.7, 0.05};
  s.usageFrequency = {0.1, 0.2, 0.3, 0.05, 0.25, 0.1};
  s.expertOutputMean = moe::Matrix(6, 2);
  const double xs[] = {0, 10, 1, 6, 8, 4.5};
  for (int e = 0; e < 6; ++e) {
    s.expertOutputMean(e, 0) = xs[e];
    s.expertOutputMean(e, 1) = 3.0;
  }
  return s;
}

}  // namespace

TEST_CASE("REAM: REAP centroids, nearest-centroid groups, centroid router rows", "[ream]") {
  const moe::LayerStats s = handStats();
  const moe::ReamGroups g = moe::reamGroups(s, 2);
  CHECK(g.centroids == std::vector<int64_t>{2, 4});
  CHECK(g.labels == std::vector<int64_t>{0, 1, 0, 1, 1, 0});

  const moe::LayerPlan lp = moe::layerPlanForGroups(s, 2, {}, moe::MergeStrategy::Ream);
  CHECK(lp.strategy == moe::MergeStrategy::Ream);
  CHECK(lp.labels == std::vector<int64_t>{0, 1, 0, 1, 1, 0});
  CHECK(lp.dominant == std::vector<int64_t>{2, 4});
  CHECK(lp.alignNeurons);  // on by default for REAM
  CHECK(lp.layer == 1);
  CHECK(moe::alignmentReferences(lp) == std::vector<int64_t>{2, 4});
  CHECK_FALSE(moe::layerPlanForGroups(s, 2, {}, moe::MergeStrategy::Ream, moe::RouterMode::Average, false).alignNeurons);
  CHECK(moe::layerPlanForGroups(s, 2, {0, 0, 0, 1, 1, 1}, moe::MergeStrategy::FrequencyWeighted,
                                moe::RouterMode::Average, true).alignNeurons);
  CHECK_THROWS_AS(moe::layerPlanForGroups(s, 2, {}, moe::MergeStrategy::PruneReap, moe::RouterMode::Average, true),
                  moe::Error);
  // K = E keeps the block; K outside 1..E and missing statistics are refused.
  CHECK(moe::layerPlanForGroups(s, 6, {}, moe::MergeStrategy::Ream).isIdentity());
  CHECK_THROWS_AS(moe::reamGroups(s, 0), moe::Error);
  moe::LayerStats noReap = s;
  noReap.reapScore.clear();
  CHECK_THROWS_WITH(moe::reamGroups(noReap, 2), moe::test::Contains("REAP"));

  // Merge: frequency weights per group, router rows copied from the centroids (no alignment here,
  // so the weights can be averaged by hand).
  moe::LayerPlan plain = lp;
  plain.alignNeurons = false;
  const moe::MoeBlock block = randomBlock(6, 4, 3, true, moe::ExpertActivation::SiLU, 9);
  const moe::MoeBlock c = moe::applyLayerPlan(block, plain, moe::MergeSemantics::Compact);
  REQUIRE(c.numExperts() == 2);
  CHECK(at::equal(c.routerWeight[0], block.routerWeight[2]));
  CHECK(at::equal(c.routerWeight[1], block.routerWeight[4]));
  CHECK(at::equal(c.routerBias[0], block.routerBias[2]));
  CHECK(at::equal(c.routerBias[1], block.routerBias[4]));
  const at::Tensor g1 = (block.gate[1] * 0.2 + block.gate[3] * 0.05 + block.gate[4] * 0.25) / 0.5;
  const at::Tensor g0 = (block.gate[0] * 0.1 + block.gate[2] * 0.3 + block.gate[5] * 0.1) / 0.5;
  CHECK(maxAbsDiff(c.gate[1], g1) < 1e-6);
  CHECK(maxAbsDiff(c.gate[0], g0) < 1e-6);
  const moe::MoeBlock tied = moe::applyLayerPlan(block, plain, moe::MergeSemantics::Tied);
  CHECK(tied.expertSlot == std::vector<int64_t>{0, 1, 0, 1, 1, 0});
  CHECK(at::equal(tied.routerWeight, block.routerWeight));
  CHECK(maxAbsDiff(tied.gate[1], g1) < 1e-6);

  // With alignment the router rows are still the centroids'.
  moe::LayerPlan aligned = lp;
  aligned.neuronPermutation =
      std::make_shared<const moe::NeuronPermutations>(moe::alignBlockNeurons(block, lp, at::randn({50, 4})));
  const moe::MoeBlock ca = moe::applyLayerPlan(block, aligned, moe::MergeSemantics::Compact);
  CHECK(at::equal(ca.routerWeight[0], block.routerWeight[2]));
  CHECK(at::equal(ca.routerWeight[1], block.routerWeight[4]));

  // REAM with the frequency router is refused, naming the block.
  moe::LayerPlan freqRouter = lp;
  freqRouter.router = moe::RouterMode::FrequencyWeighted;
  CHECK_THROWS_WITH(freqRouter.validate(), moe::test::Contains("MoE block 0") && moe::test::Contains("REAM"));

  // buildPlan: REAM groups every merged block itself.
  moe::PlanRequest req;
  req.strategy = moe::MergeStrategy::Ream;
  req.clustersPerBlock = {2};
  moe::AnalysisInfo info;
  info.modelFingerprint = "fp";
  const moe::MergePlan plan = moe::buildPlan({s}, req, info);
  REQUIRE(plan.layers.size() == 1);
  CHECK(plan.layers[0].labels == std::vector<int64_t>{0, 1, 0, 1, 1, 0});
  CHECK(plan.layers[0].alignNeurons);
  CHECK(plan.method.find("REAM") != std::string::npos);
  req.strategy = moe::MergeStrategy::PruneFrequency;
  req.alignNeurons = true;
  CHECK_THROWS_AS(moe::buildPlan({s}, req, info), moe::Error);
}

TEST_CASE("plan JSON: ream and align_neurons round-trip; bad values are clear errors", "[ream][plan]") {
  CHECK(moe::parseMergeStrategy("ream") == moe::MergeStrategy::Ream);
  CHECK(std::string(moe::mergeStrategyName(moe::MergeStrategy::Ream)) == "ream");
  CHECK_THROWS_WITH(moe::parseMergeStrategy("reem"), moe::test::Contains("ream"));

  moe::MergePlan p;
  p.modelFingerprint = "fp";
  p.layers.push_back(moe::layerPlanForGroups(handStats(), 2, {}, moe::MergeStrategy::Ream));
  moe::LayerPlan f = moe::mergeLayerPlan(1, {0, 1, 1, 0}, moe::MergeStrategy::FrequencyWeighted, {0.1, 0.2, 0.3, 0.4});
  f.alignNeurons = true;
  p.layers.push_back(f);
  p.layers.push_back(moe::mergeLayerPlan(2, {0, 1, 1, 0}, moe::MergeStrategy::Average));
  p.layers.push_back(moe::pruneLayerPlan(3, 4, {1, 2}, moe::MergeStrategy::PruneReap, {0.1, 0.9, 0.8, 0.2}));
  const json j = p.toJson();
  CHECK(j["layers"][0]["strategy"] == "ream");
  CHECK(j["layers"][0]["align_neurons"] == true);
  CHECK(j["layers"][0]["dominant"] == json::array({2, 4}));
  CHECK(j["layers"][1]["align_neurons"] == true);
  CHECK(j["layers"][2]["align_neurons"] == false);
  CHECK_FALSE(j["layers"][3].contains("align_neurons"));
  const moe::MergePlan back = moe::MergePlan::fromJson(j);
  REQUIRE(back.layers.size() == 4);
  CHECK(back.layers[0].strategy == moe::MergeStrategy::Ream);
  CHECK(back.layers[0].labels == p.layers[0].labels);
  CHECK(back.layers[0].dominant == p.layers[0].dominant);
  CHECK(back.layers[0].usageFrequency == p.layers[0].usageFrequency);
  CHECK(back.layers[0].alignNeurons);
  CHECK(back.layers[1].alignNeurons);
  CHECK_FALSE(back.layers[2].alignNeurons);
  CHECK(back.toJson() == j);

  // Absent: on for ream, off for the others.
  json absent = j;
  for (auto& l : absent["layers"]) l.erase("align_neurons");
  const moe::MergePlan d = moe::MergePlan::fromJson(absent);
  CHECK(d.layers[0].alignNeurons);
  CHECK_FALSE(d.layers[1].alignNeurons);

  json bad = j;
  bad["layers"][1]["align_neurons"] = "yes";
  try {
    moe::MergePlan::fromJson(bad, "plan.json");
    FAIL("a string align_neurons was accepted");
  } catch (const moe::Error& e) {
    CHECK(e.kind() == moe::ErrorKind::Format);
    CHECK_THAT(e.what(), moe::test::Contains("plan.json") && moe::test::Contains("align_neurons") &&
                             moe::test::Contains("MoE block 1") && moe::test::Contains("\"yes\""));
  }
  bad["layers"][1]["align_neurons"] = 1;
  CHECK_THROWS_WITH(moe::MergePlan::fromJson(bad), moe::test::Contains("true or false"));
  json noCentroids = j;
  noCentroids["layers"][0].erase("dominant");
  CHECK_THROWS_WITH(moe::MergePlan::fromJson(noCentroids), moe::test::Contains("centroid"));
}

namespace {

// Block inputs and weights of the original model's forward pass, captured by the test.
struct Capture : moe::ForwardObserver {
  std::map<int, at::Tensor> inputs;
  std::map<int, moe::MoeBlock> blocks;
  void onMoeBlock(const moe::MoeTrace& t) override {
    inputs[t.moeIndex] = t.input.clone();
    blocks[t.moeIndex] = *t.block;
  }
};

// Pearson correlation written out in the test (float64).
at::Tensor pearson(const at::Tensor& a, const at::Tensor& b) {
  auto z = [](const at::Tensor& t) {
    at::Tensor d = t.to(at::kDouble);
    d = d - d.mean(0, true);
    return d / d.pow(2).sum(0, true).sqrt();
  };
  return z(a).t().mm(z(b));
}

}  // namespace

TEST_CASE("alignPlanNeurons: one forward pass gives every member its optimal permutation", "[ream][align][arch]") {
  moe::initThreads();
  for (const std::string arch : {"qwen3_moe", "gpt_oss"}) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch, moe::test::runtime("fp32"));
      at::manual_seed(1);
      const at::Tensor ids = at::randint(0, model->config().vocabSize, {2, 24}, at::kLong);
      const auto stats = moe::runAnalysis(*model, ids, {}).layers;
      moe::PlanRequest req;
      req.strategy = moe::MergeStrategy::Ream;
      for (const auto& s : stats) req.clustersPerBlock.push_back(s.numExperts / 2);
      req.firstUnmerged = 1;  // block 0 kept whole: nothing to align there
      moe::AnalysisInfo info;
      moe::MergePlan plan = moe::buildPlan(stats, req, info);
      REQUIRE(moe::planNeedsNeuronAlignment(plan));

      std::atomic<bool> cancel{true};
      CHECK_THROWS_AS(moe::alignPlanNeurons(plan, *model, ids, {}, {}, &cancel), moe::Error);
      CHECK(moe::planNeedsNeuronAlignment(plan));  // left as it was

      int calls = 0, lastTotal = 0;
      moe::alignPlanNeurons(plan, *model, ids, {}, [&](int done, int total) {
        ++calls;
        lastTotal = total;
        CHECK(done == calls);
      });
      CHECK(calls == static_cast<int>(plan.layers.size()) - 1);
      CHECK(lastTotal == calls);
      CHECK_FALSE(moe::planNeedsNeuronAlignment(plan));
      CHECK_FALSE(plan.layers[0].neuronPermutation);

      Capture cap;
      moe::ForwardOptions fo;
      fo.computeLogits = false;
      model->forward(ids, &cap, fo);
      for (const auto& lp : plan.layers) {
        if (!lp.needsAlignment()) continue;
        REQUIRE(lp.neuronPermutation);
        const moe::MoeBlock& block = cap.blocks.at(lp.moeIndex);
        const at::Tensor& x = cap.inputs.at(lp.moeIndex);
        const int64_t I = block.intermediateSize();
        const auto members = lp.members();
        for (size_t g = 0; g < members.size(); ++g) {
          const int64_t r = lp.dominant[g];
          CHECK((*lp.neuronPermutation)[static_cast<size_t>(r)].empty());
          for (int64_t m : members[g]) {
            if (m == r) continue;
            const auto& p = (*lp.neuronPermutation)[static_cast<size_t>(m)];
            REQUIRE(isPermutation(p, I));
            // The chosen permutation reaches the reference optimum of -correlation.
            at::Tensor C = pearson(block.slotHidden(block.slotOf(r), x), block.slotHidden(block.slotOf(m), x));
            C = at::nan_to_num(C, 0.0).contiguous();
            std::vector<double> cost(static_cast<size_t>(I * I));
            for (int64_t i = 0; i < I * I; ++i) cost[static_cast<size_t>(i)] = -C.data_ptr<double>()[i];
            CHECK(assignmentCost(cost, I, p) ==
                  Approx(minCostFlowAssignment(cost, static_cast<int>(I))).margin(1e-6));
          }
        }
      }
      // The aligned plan merges and runs, tied and compact; alignment changes the merged model.
      auto logits = [&](const moe::MergePlan& p, moe::MergeSemantics sem) {
        moe::ForwardOptions mo;
        mo.moeOverride = moe::planOverride(p, sem);
        return model->forward(ids, nullptr, mo);
      };
      moe::MergePlan unaligned = plan;
      for (auto& lp : unaligned.layers) lp.alignNeurons = false;
      for (auto sem : {moe::MergeSemantics::Tied, moe::MergeSemantics::Compact}) {
        const at::Tensor a = logits(plan, sem);
        CHECK(a.isfinite().all().item<bool>());
        CHECK(maxAbsDiff(a, logits(unaligned, sem)) > 1e-4);
      }
      // The export merges the aligned experts too (and says so in its model card).
      const fs::path dir = fs::temp_directory_path() / ("moescope-test-ream-" + std::to_string(::getpid()) + "-" + arch);
      fs::remove_all(dir);
      req.firstUnmerged = 0;  // a compact export needs the same K in every block
      info.modelFingerprint = "fp";
      moe::MergePlan all = moe::buildPlan(stats, req, info);
      moe::alignPlanNeurons(all, *model, ids);
      moe::ExportOptions eo;
      eo.fingerprint = "fp";
      const auto res = moe::exportMergedModel(*model, all, dir.string(), eo);
      {
        auto back = moe::Model::open(res.folder, moe::test::runtime("fp32"));
        // What the aligned merge computes once stored (the fixtures' BF16 rounding), as test_merge does.
        auto stored = [&](const moe::MergePlan& p) {
          moe::ForwardOptions mo;
          auto apply = moe::planOverride(p, moe::MergeSemantics::Compact);
          mo.moeOverride = [&](int j, moe::MoeBlock& b) {
            const moe::MoeBlock source = b;
            apply(j, b);
            b = moe::storedMergedBlock(*model, j, source, b, *p.find(j), moe::MergeSemantics::Compact);
          };
          return model->forward(ids, nullptr, mo);
        };
        const at::Tensor want = stored(all);
        const at::Tensor got = back->forward(ids);
        const double scale = want.abs().max().item<double>();
        CHECK(maxAbsDiff(got, want) <= 1e-5 * scale);
        moe::MergePlan allUnaligned = all;
        for (auto& lp : allUnaligned.layers) lp.alignNeurons = false;
        CHECK(maxAbsDiff(got, stored(allUnaligned)) > 1e-3 * scale);
      }
      std::ifstream card(dir / "README.md");
      const std::string text((std::istreambuf_iterator<char>(card)), std::istreambuf_iterator<char>());
      CHECK_THAT(text, moe::test::Contains("ream (neuron-aligned) | centroid rows"));
      fs::remove_all(dir);
    }
  }
}
