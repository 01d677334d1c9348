// The rules the CLI and the explorer share, each with one home in core: which clusterings are
// meaningful (ward needs Euclidean distances), the uniform K allocation, the Gram-matrix estimate
// of a merge's error and the plan entry of a grouped block. Expected values are worked out by hand
// (in the comments) or by the plain formula written out here, never taken from the code under test.
#include "tests/catch.h"

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/analysis/clustering.h"
#include "core/analysis/error_estimate.h"
#include "core/analysis/first_look.h"
#include "core/cluster/allocation.h"
#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "core/error.h"
#include "core/merge/plan_builder.h"

using namespace moe;

namespace {

Matrix rows(const std::vector<std::vector<double>>& r) {
  Matrix m(static_cast<int64_t>(r.size()), static_cast<int64_t>(r.front().size()));
  for (size_t i = 0; i < r.size(); ++i)
    for (size_t c = 0; c < r[i].size(); ++c) m(static_cast<int64_t>(i), static_cast<int64_t>(c)) = r[i][c];
  return m;
}

// A block of four experts with mean outputs on a line: 0, 1, 3 and 10.
LayerStats fourExperts() {
  LayerStats s;
  s.moeIndex = 2;
  s.layer = 5;
  s.numExperts = 4;
  s.topK = 1;
  s.hidden = 2;
  s.usageFrequency = {0.1, 0.4, 0.2, 0.3};
  s.reapScore = {0.9, 0.1, 0.5, 0.2};
  s.expertOutputMean = rows({{0, 0}, {1, 0}, {3, 0}, {10, 0}});
  return s;
}

ErrorKind kindOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("no moe::Error thrown");
  return ErrorKind::Io;
}

}  // namespace

TEST_CASE("ward linkage is refused on non-Euclidean distances, by one core rule", "[rules]") {
  ClusteringChoice choice;
  choice.method = LinkageMethod::Ward;
  choice.metric = "cosine";
  try {
    validateClusteringChoice(choice);
    FAIL("ward + cosine accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::InvalidArgument);
    CHECK_THAT(e.what(), moe::test::Contains("ward"));
    CHECK_THAT(e.what(), moe::test::Contains("cosine"));
  }
  // buildLayerTree, which the CLI's cluster / merge / compare and the explorer all go through,
  // applies the same rule instead of building a meaningless tree.
  CHECK(kindOf([&] { buildLayerTree(fourExperts(), choice); }) == ErrorKind::InvalidArgument);

  choice.metric = "euclidean";
  CHECK_NOTHROW(validateClusteringChoice(choice));
  CHECK(buildLayerTree(fourExperts(), choice).linkage.merges.size() == 3);
  choice.method = LinkageMethod::Average;
  choice.metric = "cosine";
  CHECK_NOTHROW(validateClusteringChoice(choice));
  choice.metric = "manhattan";
  CHECK(kindOf([&] { validateClusteringChoice(choice); }) == ErrorKind::InvalidArgument);
}

TEST_CASE("uniform allocation has one rule: K everywhere, all experts where a layer has fewer", "[rules]") {
  LayerStats a = fourExperts(), b = fourExperts();
  a.numExperts = 8;
  b.numExperts = 6;
  const std::vector<LayerStats> layers = {a, b};
  CHECK(allocateClusters(layers, {}, AllocationRule::Uniform, 4) == std::vector<int64_t>{4, 4});
  CHECK(allocateClusters(layers, {}, AllocationRule::Uniform, 7) == std::vector<int64_t>{7, 6});
  CHECK(allocateUniform({8, 6}, 7, UniformCap::KeepAllExperts) == std::vector<int64_t>{7, 6});
  CHECK(kindOf([] { allocateUniform({8, 6}, 7); }) == ErrorKind::InvalidArgument);  // strict by default
  for (double bad : {0.0, -3.0, 2.5, std::numeric_limits<double>::quiet_NaN()})
    CHECK(kindOf([&] { allocateClusters(layers, {}, AllocationRule::Uniform, bad); }) == ErrorKind::InvalidArgument);
  CHECK(allocateClusters(layers, {}, AllocationRule::Uniform, 1e30) == std::vector<int64_t>{8, 6});
}

TEST_CASE("the merge error estimate follows its formula on hand-computed blocks", "[rules]") {
  LayerStats s;
  s.numExperts = 3;
  s.expertOutputMean = rows({{1, 0}, {0, 1}, {2, 0}});
  s.usageFrequency = {0.5, 0.25, 0.25};
  const MergeErrorModel model = mergeErrorModel(s);
  REQUIRE(model.gram.rows == 3);
  CHECK(model.gram(0, 2) == 2.0);
  CHECK(model.gram(2, 2) == 4.0);
  // Groups {0, 1}, {2}: centre of {0, 1} = (2/3, 1/3) (usage weights 2/3, 1/3);
  // errors 2/9 and 8/9, weighted by usage: 0.5 * 2/9 + 0.25 * 8/9 = 1/3;
  // norms weighted by usage: 0.5 * 1 + 0.25 * 1 + 0.25 * 4 = 7/4. sqrt((1/3) / (7/4)) = sqrt(4/21).
  CHECK(estimateMergeError(model, {0, 0, 1}) == Approx(std::sqrt(4.0 / 21.0)).epsilon(1e-12));
  CHECK(estimateMergeError(model, {0, 1, 2}) == Approx(0.0).margin(1e-15));  // nothing merged
  // Without usage every expert counts the same and groups average plainly: {0, 2} -> centre
  // (1.5, 0); errors 0.25 + 0.25 = 0.5 over norms 1 + 1 + 4 = 6.
  MergeErrorModel plain = model;
  plain.usage.clear();
  CHECK(estimateMergeError(plain, {0, 1, 0}) == Approx(std::sqrt(0.5 / 6.0)).epsilon(1e-12));
  // The routed-token means stand in when the all-token means were not computed.
  LayerStats routed = s;
  routed.expertOutputMeanRouted = routed.expertOutputMean;
  routed.expertOutputMean = Matrix();
  CHECK(estimateMergeError(mergeErrorModel(routed), {0, 0, 1}) == Approx(std::sqrt(4.0 / 21.0)).epsilon(1e-12));
  // No representation: no estimate; labels that do not fit the block: an error.
  LayerStats none;
  none.numExperts = 3;
  CHECK(estimateMergeError(mergeErrorModel(none), {0, 0, 1}) < 0);
  CHECK(kindOf([&] { estimateMergeError(model, {0, 1}); }) == ErrorKind::InvalidArgument);
  CHECK(kindOf([&] { estimateMergeError(model, {0, 1, 7}); }) == ErrorKind::InvalidArgument);
}

TEST_CASE("the estimate of every cut of a tree equals the estimate of each cut", "[rules]") {
  // estimateMergeErrorByK walks the tree once; the reference is estimateMergeError (checked by hand
  // above) of cutTree's groups (checked against scipy in test_cluster), K by K.
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit;
  int cases = 0;
  for (int64_t n : {1, 2, 3, 7, 20, 64})
    for (LinkageMethod method : {LinkageMethod::Single, LinkageMethod::Complete, LinkageMethod::Average,
                                 LinkageMethod::Ward})
      for (int variant = 0; variant < 4; ++variant) {
        const int64_t h = 5;
        LayerStats s;
        s.numExperts = n;
        s.expertOutputMean = Matrix(n, h);
        for (double& x : s.expertOutputMean.data) x = normal(rng);
        if (variant % 2 == 0) {
          // Usage with unrouted experts (a quarter of them) and, in variant 2, an unrouted half.
          for (int64_t e = 0; e < n; ++e)
            s.usageFrequency.push_back(unit(rng) < 0.25 || (variant == 2 && e < n / 2) ? 0.0 : unit(rng));
        }
        CondensedMatrix d = pdist(s.expertOutputMean.data.data(), n, h, DistanceMetric::Euclidean);
        // Variant 3: distances rounded to halves, so that merges tie in height.
        if (variant == 3) {
          std::vector<double> rounded = d.values();
          for (double& x : rounded) x = std::round(2 * x) / 2;
          d = CondensedMatrix(n, std::move(rounded));
        }
        const Linkage z = linkage(d, method);
        const MergeErrorModel model = mergeErrorModel(s);
        const std::vector<double> curve = estimateMergeErrorByK(model, z);
        REQUIRE(curve.size() == static_cast<size_t>(n) + 1);
        for (int64_t k = 1; k <= n; ++k) {
          const double want = estimateMergeError(model, cutTree(z, k));
          INFO("n " << n << " method " << linkageMethodName(method) << " variant " << variant << " K " << k);
          // Both are square roots of a difference of sums: compare the squares.
          CHECK(curve[static_cast<size_t>(k)] * curve[static_cast<size_t>(k)] == Approx(want * want).margin(1e-12));
        }
        ++cases;
      }
  CHECK(cases == 96);

  // Inverted heights (a hand-made tree, as scipy's cut_tree allows): merge 1 (height 1) joins merge 0
  // (height 3) with leaf 2, so cut_tree's first step applies both and K = 3 already has 2 groups.
  const std::vector<double> zInverted = {0, 1, 3, 2, 4, 2, 1, 3, 5, 3, 4, 4};
  const Linkage inverted = Linkage::fromMatrix(zInverted.data(), 3);
  LayerStats s4;
  s4.numExperts = 4;
  s4.expertOutputMean = rows({{1, 0}, {0, 1}, {2, 0}, {1, 1}});
  s4.usageFrequency = {0.4, 0.1, 0.2, 0.3};
  const MergeErrorModel m4 = mergeErrorModel(s4);
  const std::vector<double> curve = estimateMergeErrorByK(m4, inverted);
  for (int64_t k = 1; k <= 4; ++k)
    CHECK(curve[static_cast<size_t>(k)] == Approx(estimateMergeError(m4, cutTree(inverted, k))).margin(1e-12));
  CHECK(curve[3] == Approx(estimateMergeError(m4, {0, 0, 0, 1})).margin(1e-12));
  CHECK(curve[4] == 0.0);
  // No representation: no estimate; a tree of another size: an error.
  LayerStats none;
  none.numExperts = 4;
  CHECK(estimateMergeErrorByK(mergeErrorModel(none), inverted) == std::vector<double>(5, -1.0));
  const std::vector<double> z2 = {0, 1, 1, 2};
  CHECK(kindOf([&] { estimateMergeErrorByK(m4, Linkage::fromMatrix(z2.data(), 1)); }) == ErrorKind::InvalidArgument);
}

TEST_CASE("a grouped block's plan entry keeps, prunes or merges by the strategy", "[rules]") {
  const LayerStats s = fourExperts();
  const LayerPlan keep = layerPlanForGroups(s, 4, {}, MergeStrategy::FrequencyWeighted);
  CHECK(keep.isIdentity());
  CHECK(keep.moeIndex == 2);
  CHECK(keep.layer == 5);
  // F-prune keeps the two most used (0.4 and 0.3: experts 1 and 3), REAP the two best scored (0, 2).
  CHECK(layerPlanForGroups(s, 2, {}, MergeStrategy::PruneFrequency).kept == std::vector<int64_t>{1, 3});
  CHECK(layerPlanForGroups(s, 2, {}, MergeStrategy::PruneReap).kept == std::vector<int64_t>{0, 2});
  const LayerPlan merged = layerPlanForGroups(s, 2, {0, 0, 1, 1}, MergeStrategy::FrequencyWeighted);
  CHECK(merged.numGroups == 2);
  CHECK(merged.members() == std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}});
  CHECK(merged.usageFrequency == s.usageFrequency);
  CHECK(merged.layer == 5);
  // Dominant: group {0, 1, 2} has mean output (4/3, 0); expert 1 at (1, 0) is nearest.
  const LayerPlan dominant = layerPlanForGroups(s, 2, {0, 0, 0, 1}, MergeStrategy::Dominant);
  CHECK(dominant.dominant == std::vector<int64_t>{1, 3});
  CHECK(kindOf([&] { layerPlanForGroups(s, 5, {}, MergeStrategy::PruneFrequency); }) == ErrorKind::InvalidArgument);
  CHECK(kindOf([&] { layerPlanForGroups(s, 2, {0, 1}, MergeStrategy::Average); }) == ErrorKind::InvalidArgument);
}

TEST_CASE("First look: the Rand index of two partitions and the quick store's name", "[rules]") {
  // Pairs of {0,0,1,1} vs {0,1,1,1}: (0,1) apart in the second, (0,2) (0,3) apart in both, (1,2) (1,3)
  // together in the second only, (2,3) together in both: 3 of 6 treated alike.
  CHECK(moe::randIndex({0, 0, 1, 1}, {0, 1, 1, 1}) == Approx(0.5));
  CHECK(moe::randIndex({0, 0, 1, 2}, {5, 5, 3, 4}) == 1.0);  // the same partition, other labels
  CHECK(moe::randIndex({0}, {7}) == 1.0);
  CHECK_THROWS_AS(moe::randIndex({0, 1}, {0, 1, 2}), moe::Error);
  CHECK(moe::firstLookPath("runs/a.h5") == "runs/a.first-look.h5");
  CHECK(moe::firstLookPath("runs/a.store") == "runs/a.store.first-look.h5");
}
