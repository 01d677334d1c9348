// moescope_cluster against scipy: the HC-SMoE reference files (computed with scipy) for every
// tiny architecture, scipy's documented examples (which are full of exact ties), and unit tests
// for the tree utilities, the K allocation rules and the error paths.
#include "tests/catch.h"
#include "tests/fixtures.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "core/cluster/allocation.h"
#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "core/error.h"
#include "core/io/h5file.h"

using namespace moe;

namespace {

const std::vector<std::string> kArchitectures = moe::test::fixtureArchitectures();
const std::vector<LinkageMethod> kMethods = {LinkageMethod::Single, LinkageMethod::Complete, LinkageMethod::Average,
                                             LinkageMethod::Ward};

std::string referencePath(const std::string& arch) {
  return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch + "/hcsmoe_reference.h5";
}

bool relativelyClose(double actual, double expected, double rel) {
  return std::fabs(actual - expected) <= rel * std::max(std::fabs(expected), 1e-300);
}

// Same merge pairs and sizes, heights within `rel`; reports the first difference.
void requireSameLinkage(const Linkage& actual, const Linkage& expected, double rel) {
  REQUIRE(actual.n == expected.n);
  REQUIRE(actual.merges.size() == expected.merges.size());
  for (size_t i = 0; i < expected.merges.size(); ++i) {
    INFO("merge " << i);
    const Merge& a = actual.merges[i];
    const Merge& e = expected.merges[i];
    CHECK(a.a == e.a);
    CHECK(a.b == e.b);
    CHECK(a.size == e.size);
    CHECK(relativelyClose(a.height, e.height, rel));
  }
}

Linkage readLinkage(const h5::File& file, const std::string& dataset) {
  const h5::Array<double> z = file.readDouble(dataset);
  REQUIRE(z.shape.size() == 2);
  REQUIRE(z.shape[1] == 4);
  return Linkage::fromMatrix(z.data.data(), z.shape[0]);
}

Linkage fromRows(const std::vector<std::vector<double>>& rows) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return Linkage::fromMatrix(flat.data(), static_cast<int64_t>(rows.size()));
}

template <typename F>
void requireInvalid(F&& f) {
  try {
    f();
    FAIL("expected moe::Error(InvalidArgument)");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::InvalidArgument);
    CHECK(std::string(e.what()).size() > 10);
  }
}

// scipy's docstring data set: four L-shaped triples in the corners of a 4x4 square.
const std::vector<double> kCorners = {0, 0, 0, 1, 1, 0, 0, 4, 0, 3, 1, 4, 4, 0, 3, 0, 4, 1, 4, 4, 3, 4, 4, 3};

}  // namespace

TEST_CASE("reference: distances, linkages and cut_tree labels match scipy", "[cluster][reference]") {
  int layersChecked = 0;
  int labelSetsChecked = 0;
  for (const std::string& arch : kArchitectures) {
    h5::File file(referencePath(arch), h5::File::Mode::Read);
    for (const std::string& layer : file.children("layers")) {
      const std::string g = "layers/" + layer + "/";
      INFO(arch << " layer " << layer);
      ++layersChecked;

      const h5::Array<float> means = file.readFloat(g + "expert_output_mean");
      REQUIRE(means.shape.size() == 2);
      const int64_t experts = means.shape[0];
      const h5::Array<double> refSquare = file.readDouble(g + "distance");
      REQUIRE(refSquare.shape == h5::Shape{experts, experts});

      // 1. Euclidean distances from the expert output means.
      const CondensedMatrix mine = pdist(means.data.data(), experts, means.shape[1], DistanceMetric::Euclidean);
      const std::vector<double> mineSquare = squareDistances(means.data.data(), experts, means.shape[1],
                                                             DistanceMetric::Euclidean);
      REQUIRE(mine.toSquare() == mineSquare);
      for (int64_t i = 0; i < experts; ++i)
        for (int64_t j = 0; j < experts; ++j) {
          if (i == j) continue;
          INFO("pair " << i << ", " << j);
          CHECK(relativelyClose(mineSquare[i * experts + j], refSquare.data[i * experts + j], 1e-5));
        }

      const CondensedMatrix reference = condensedFromSquare(refSquare.data.data(), experts);
      for (LinkageMethod method : kMethods) {
        const std::string name = linkageMethodName(method);
        INFO("method " << name);
        const Linkage expected = readLinkage(file, g + "linkage_" + name);

        // 2. Linkage from the reference distances, and from ours.
        const Linkage fromReference = linkage(reference, method);
        requireSameLinkage(fromReference, expected, 1e-6);
        requireSameLinkage(linkage(mine, method), expected, 1e-6);
        CHECK(fromReference.toMatrix() == file.readDouble(g + "linkage_" + name).data);  // bit-exact too

        // 3. cut_tree labels for every K in the file, exactly (scipy's numbering) and up to renaming.
        const std::string prefix = "labels_" + name + "_k";
        std::vector<int64_t> ks;
        std::vector<std::vector<int64_t>> expectedByK;
        for (const std::string& dataset : file.children("layers/" + layer)) {
          if (dataset.rfind(prefix, 0) != 0) continue;
          const int64_t k = std::stoll(dataset.substr(prefix.size()));
          INFO("K = " << k);
          const std::vector<int64_t> expectedLabels = file.readInt(g + dataset).data;
          const std::vector<int64_t> labels = cutTree(fromReference, k);
          CHECK(labels == expectedLabels);
          CHECK(canonicalLabels(labels) == canonicalLabels(expectedLabels));
          CHECK(cutTree(expected, k) == expectedLabels);
          ks.push_back(k);
          expectedByK.push_back(expectedLabels);
          ++labelSetsChecked;
        }
        // The same labels from one shared replay for all the K.
        CHECK(cutTreeMany(fromReference, ks) == expectedByK);
      }
    }
  }
  CHECK(layersChecked >= static_cast<int>(2 * kArchitectures.size()));  // every fixture has 2+ MoE blocks
  CHECK(labelSetsChecked == layersChecked * 16);
}

TEST_CASE("reference: tree utilities are consistent on real trees", "[cluster][reference]") {
  for (const std::string& arch : kArchitectures) {
    h5::File file(referencePath(arch), h5::File::Mode::Read);
    for (const std::string& layer : file.children("layers")) {
      const std::string g = "layers/" + layer + "/";
      for (LinkageMethod method : kMethods) {
        INFO(arch << " layer " << layer << " " << linkageMethodName(method));
        const Linkage z = readLinkage(file, g + "linkage_" + linkageMethodName(method));
        const int64_t n = z.n;
        // Cutting between two distinct consecutive heights gives the same partition as cut_tree.
        for (int64_t i = 0; i + 1 < n - 1; ++i) {
          const double lo = z.merges[i].height;
          const double hi = z.merges[i + 1].height;
          if (!(lo < hi)) continue;
          const double h = 0.5 * (lo + hi);
          const int64_t k = n - (i + 1);
          CHECK(clusterCountAtHeight(z, h) == k);
          CHECK(cutAtHeight(z, h) == cutTree(z, k));
          CHECK(canonicalLabels(fclusterDistance(z, h)) == cutTree(z, k));
        }
        // Leaves order is a permutation; tree members of the root follow it.
        const std::vector<int64_t> leaves = leavesList(z);
        std::vector<int64_t> sorted = leaves;
        std::sort(sorted.begin(), sorted.end());
        std::vector<int64_t> identity(static_cast<size_t>(n));
        std::iota(identity.begin(), identity.end(), 0);
        CHECK(sorted == identity);
        const Tree tree = buildTree(z);
        CHECK(tree.nodes[tree.root].members == leaves);
        // The cophenetic distance of a merge's two children is its height.
        const CondensedMatrix coph = copheneticDistances(z);
        for (const Merge& m : z.merges)
          CHECK(coph(tree.nodes[m.a].members.front(), tree.nodes[m.b].members.front()) == m.height);
      }
    }
  }
}

TEST_CASE("reference: cophenetic correlation matches scipy cophenet(Z, Y)", "[cluster][reference]") {
  // Values printed by scipy's cophenet(linkage(y, method), y)[0] for mixtral layer 0.
  const std::map<LinkageMethod, double> expected = {{LinkageMethod::Single, 0.9827008424479386},
                                                    {LinkageMethod::Complete, 0.9859786312577392},
                                                    {LinkageMethod::Average, 0.9916253938303433},
                                                    {LinkageMethod::Ward, 0.9649158021859571}};
  h5::File file(referencePath("mixtral"), h5::File::Mode::Read);
  const h5::Array<double> square = file.readDouble("layers/0/distance");
  const CondensedMatrix y = condensedFromSquare(square.data.data(), square.shape[0]);
  for (const auto& [method, value] : expected) {
    INFO(linkageMethodName(method));
    CHECK(copheneticCorrelation(linkage(y, method), y) == Approx(value).epsilon(1e-12));
  }
}

TEST_CASE("scipy docstring examples: linkage with ties", "[cluster][linkage]") {
  const CondensedMatrix y = pdist(kCorners.data(), 12, 2, DistanceMetric::Euclidean);
  const double r2 = std::sqrt(2.0);

  SECTION("single") {
    const Linkage expected = fromRows({{0, 1, 1, 2}, {2, 12, 1, 3}, {3, 4, 1, 2}, {5, 14, 1, 3}, {6, 7, 1, 2},
                                       {8, 16, 1, 3}, {9, 10, 1, 2}, {11, 18, 1, 3}, {13, 15, 2, 6},
                                       {17, 20, 2, 9}, {19, 21, 2, 12}});
    const Linkage z = linkage(y, LinkageMethod::Single);
    requireSameLinkage(z, expected, 1e-12);
    CHECK(fclusterDistance(z, 0.9) == std::vector<int64_t>{7, 8, 9, 10, 11, 12, 4, 5, 6, 1, 2, 3});
    CHECK(fclusterDistance(z, 1) == std::vector<int64_t>{3, 3, 3, 4, 4, 4, 2, 2, 2, 1, 1, 1});
    CHECK(fclusterDistance(z, 2) == std::vector<int64_t>(12, 1));
    CHECK(cutAtHeight(z, 1) == std::vector<int64_t>{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3});
  }
  SECTION("complete") {
    const Linkage expected = fromRows({{0, 1, 1, 2}, {3, 4, 1, 2}, {6, 7, 1, 2}, {9, 10, 1, 2}, {2, 12, r2, 3},
                                       {5, 13, r2, 3}, {8, 14, r2, 3}, {11, 15, r2, 3},
                                       {16, 17, 4.12310563, 6}, {18, 19, 4.12310563, 6},
                                       {20, 21, 5.65685425, 12}});
    const Linkage z = linkage(y, LinkageMethod::Complete);
    requireSameLinkage(z, expected, 1e-8);
    CHECK(fclusterDistance(z, 0.9) == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    CHECK(fclusterDistance(z, 1.5) == std::vector<int64_t>{1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4});
    CHECK(fclusterDistance(z, 4.5) == std::vector<int64_t>{1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2});
    CHECK(fclusterDistance(z, 6) == std::vector<int64_t>(12, 1));
    // cut_tree inside a run of equal heights: the lowest nodes come first.
    CHECK(cutTree(z, 8) == std::vector<int64_t>{0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7});
    CHECK(cutTree(z, 10) == std::vector<int64_t>{0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(cutTree(z, 4) == std::vector<int64_t>{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3});
  }
  SECTION("average") {
    const Linkage expected = fromRows({{0, 1, 1, 2}, {3, 4, 1, 2}, {6, 7, 1, 2}, {9, 10, 1, 2},
                                       {2, 12, 1.20710678, 3}, {5, 13, 1.20710678, 3}, {8, 14, 1.20710678, 3},
                                       {11, 15, 1.20710678, 3}, {16, 17, 3.39675184, 6},
                                       {18, 19, 3.39675184, 6}, {20, 21, 4.09206523, 12}});
    const Linkage z = linkage(y, LinkageMethod::Average);
    requireSameLinkage(z, expected, 1e-8);
    CHECK(fclusterDistance(z, 1.5) == std::vector<int64_t>{1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4});
    CHECK(fclusterDistance(z, 4) == std::vector<int64_t>{1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2});
  }
  SECTION("ward") {
    const Linkage expected = fromRows({{0, 1, 1, 2}, {3, 4, 1, 2}, {6, 7, 1, 2}, {9, 10, 1, 2},
                                       {2, 12, 1.29099445, 3}, {5, 13, 1.29099445, 3}, {8, 14, 1.29099445, 3},
                                       {11, 15, 1.29099445, 3}, {16, 17, 5.77350269, 6},
                                       {18, 19, 5.77350269, 6}, {20, 21, 8.16496581, 12}});
    const Linkage z = linkage(y, LinkageMethod::Ward);
    requireSameLinkage(z, expected, 1e-8);
    CHECK(fclusterDistance(z, 0.9) == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    CHECK(fclusterDistance(z, 1.1) == std::vector<int64_t>{1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8});
    CHECK(fclusterDistance(z, 3) == std::vector<int64_t>{1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4});
    CHECK(fclusterDistance(z, 9) == std::vector<int64_t>(12, 1));
    CHECK(leavesList(z) == std::vector<int64_t>{2, 0, 1, 5, 3, 4, 8, 6, 7, 11, 9, 10});
    CHECK(clusterCountAtHeight(z, 1.1) == 8);
    CHECK(cutAtHeight(z, 1.1) == std::vector<int64_t>{0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7});
  }
}

// The matrices of scripts/fixtures/make_linkage_reference.py, by the same formulas (every value
// exact in double precision, the square roots correctly rounded on both sides).
std::vector<double> referenceMatrix(const std::string& name, int64_t n) {
  std::vector<double> square(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double v = 0;
      if (name == "grid") {
        const double dx = static_cast<double>((7 * i) % 23 - (7 * j) % 23);
        const double dy = static_cast<double>((11 * i) % 19 - (11 * j) % 19);
        const double dz = static_cast<double>(i % 5 - j % 5);
        v = std::sqrt(dx * dx + dy * dy + dz * dz);
      } else if (i != j) {
        v = 1.0 + static_cast<double>((i * i + j * j + 3 * i * j) % 7) +
            (name == "near_ties" ? static_cast<double>((i + j) % 3) / 1024.0 : 0.0);
      }
      square[static_cast<size_t>(i * n + j)] = v;
    }
  return square;
}

TEST_CASE("scipy reference: linkages of tie-heavy 100 x 100 and 300 x 300 matrices", "[cluster][linkage][reference]") {
  // tests/data/cluster/linkage_ties.h5 holds scipy's linkage of each matrix (made by
  // scripts/fixtures/make_linkage_reference.py). Seven distinct values make almost every
  // nearest-neighbour scan a tie; the grid repeats points. At 300 the nearest-neighbour chain
  // compacts its working matrix twice, and the tiles of the square input end mid-tile.
  const h5::File file(std::string(MOESCOPE_TEST_DATA) + "/cluster/linkage_ties.h5", h5::File::Mode::Read);
  const std::vector<std::pair<int64_t, std::string>> cases = {{100, "ties"},      {100, "near_ties"}, {300, "ties"},
                                                              {300, "near_ties"}, {300, "grid"}};
  for (const auto& [n, name] : cases) {
    const std::vector<double> square = referenceMatrix(name, n);
    const std::string prefix = n == 100 ? "" : "n" + std::to_string(n) + "/";
    for (LinkageMethod method : kMethods) {
      INFO(n << " " << name << " " << linkageMethodName(method));
      const std::vector<double> expected = file.readDouble(prefix + name + "/" + linkageMethodName(method)).data;
      REQUIRE(expected.size() == static_cast<size_t>(4 * (n - 1)));
      CHECK(linkageFromSquare(square.data(), n, method).toMatrix() == expected);  // bit-exact
      CHECK(linkage(condensedFromSquare(square.data(), n), method).toMatrix() == expected);
      // An asymmetry within the checks' tolerance: both read the upper triangle, as squareform.
      std::vector<double> skewed = square;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < i; ++j) skewed[static_cast<size_t>(i * n + j)] *= 1 + 1e-9;
      CHECK(linkageFromSquare(skewed.data(), n, method).toMatrix() == expected);
    }
  }
}

TEST_CASE("distances: cosine and layouts", "[cluster][distance]") {
  const std::vector<float> x = {1, 0, 0, 1, 1, 1};
  const CondensedMatrix c = pdist(x.data(), 3, 2, DistanceMetric::Cosine);
  CHECK(c.values().size() == 3);
  CHECK(c(0, 1) == Approx(1.0));
  CHECK(c(0, 2) == Approx(1 - 1 / std::sqrt(2.0)));
  CHECK(c(2, 1) == Approx(1 - 1 / std::sqrt(2.0)));
  CHECK(c(1, 1) == 0);
  const std::vector<double> parallel = {1, 2, 2, 4};
  CHECK(pdist(parallel.data(), 2, 2, DistanceMetric::Cosine)(0, 1) == Approx(0.0).margin(1e-15));
  const std::vector<double> e = {0, 0, 3, 4};
  CHECK(pdist(e.data(), 2, 2, DistanceMetric::Euclidean)(0, 1) == 5.0);
  CHECK(condensedIndex(4, 0, 1) == 0);
  CHECK(condensedIndex(4, 2, 3) == 5);
  CHECK(condensedIndex(4, 3, 1) == 4);
  CHECK(parseDistanceMetric("cosine") == DistanceMetric::Cosine);
  CHECK(parseLinkageMethod("ward") == LinkageMethod::Ward);
  // One observation: no pairs, an empty tree.
  const CondensedMatrix one = pdist(e.data(), 1, 4, DistanceMetric::Euclidean);
  CHECK(one.values().empty());
  const Linkage z = linkage(one, LinkageMethod::Average);
  CHECK(z.merges.empty());
  CHECK(cutTree(z, 1) == std::vector<int64_t>{0});
  CHECK(leavesList(z) == std::vector<int64_t>{0});
  CHECK(toNewick(z, {"only"}) == "only;");
}

TEST_CASE("tree: node table, cophenetic distances, Newick", "[cluster][tree]") {
  // Points 0, 1, 3 on a line: single linkage joins 0-1 at 1, then 2 at 2.
  const std::vector<double> line = {0, 1, 3};
  const CondensedMatrix d = pdist(line.data(), 3, 1, DistanceMetric::Euclidean);
  const Linkage z = linkage(d, LinkageMethod::Single);
  REQUIRE(z.toMatrix() == std::vector<double>{0, 1, 1, 2, 2, 3, 2, 3});

  const Tree tree = buildTree(z);
  REQUIRE(tree.nodes.size() == 5);
  CHECK(tree.root == 4);
  CHECK(tree.nodes[4].left == 2);
  CHECK(tree.nodes[4].right == 3);
  CHECK(tree.nodes[3].parent == 4);
  CHECK(tree.nodes[0].parent == 3);
  CHECK(tree.nodes[4].parent == -1);
  CHECK(tree.nodes[3].members == std::vector<int64_t>{0, 1});
  CHECK(tree.nodes[4].members == std::vector<int64_t>{2, 0, 1});
  CHECK(tree.leafOrder == std::vector<int64_t>{2, 0, 1});
  CHECK(tree.nodes[2].position == 0);
  CHECK(tree.nodes[3].position == 1.5);
  CHECK(tree.nodes[4].position == 0.75);
  CHECK(tree.nodes[4].height == 2);
  CHECK(tree.nodes[4].size == 3);

  CHECK(copheneticDistances(z).values() == std::vector<double>{1, 2, 2});
  CHECK(copheneticCorrelation(z, d) == Approx(1 / std::sqrt(12.0 / 9.0)));

  CHECK(toNewick(z, {"a", "b", "c"}) == "(c:2,(a:1,b:1):1);");
  CHECK(toNewick(z) == "(2:2,(0:1,1:1):1);");
  CHECK(toNewick(z, {"expert 0", "it's", "e_2"}) == "(e_2:2,('expert 0':1,'it''s':1):1);");
  const std::vector<double> thirds = {0, 1.0 / 3};
  CHECK(toNewick(linkage(pdist(thirds.data(), 2, 1, DistanceMetric::Euclidean), LinkageMethod::Single), {}, 3) ==
        "(0:0.333,1:0.333);");

  // cut_tree extremes and canonical labels.
  CHECK(cutTree(z, 3) == std::vector<int64_t>{0, 1, 2});
  CHECK(cutTree(z, 2) == std::vector<int64_t>{0, 0, 1});
  CHECK(cutTree(z, 1) == std::vector<int64_t>{0, 0, 0});
  CHECK(canonicalLabels({5, 5, 2, 9, 2}) == std::vector<int64_t>{0, 0, 1, 2, 1});
  CHECK(clusterCountAtHeight(z, 0.5) == 3);
  CHECK(clusterCountAtHeight(z, 1) == 2);  // merges at exactly the height are applied
  CHECK(clusterCountAtHeight(z, 1e9) == 1);
  // fcluster numbers a node's inner subtrees before its own leaf children (scipy's walk).
  CHECK(fclusterDistance(z, 1) == std::vector<int64_t>{1, 1, 2});
}

TEST_CASE("allocation: uniform, frequency and distance rules", "[cluster][allocation]") {
  SECTION("uniform") {
    CHECK(allocateUniform({8, 8, 8}, 4) == std::vector<int64_t>{4, 4, 4});
    CHECK(allocateUniform({8, 6}, 6) == std::vector<int64_t>{6, 6});
    requireInvalid([] { allocateUniform({8, 6}, 7); });
    requireInvalid([] { allocateUniform({8}, 0); });
    requireInvalid([] { allocateUniform({}, 2); });
    requireInvalid([] { allocateUniform({8, 0}, 1); });
  }
  SECTION("frequency: global ranking") {
    const std::vector<std::vector<double>> f = {{0.5, 0.3, 0.1, 0.1}, {0.4, 0.4, 0.1, 0.1}};
    FrequencyAllocation a = allocateByFrequency(f, 4);
    CHECK(a.clusters == std::vector<int64_t>{2, 2});
    CHECK(a.threshold == 0.3);
    a = allocateByFrequency(f, 3);
    CHECK(a.clusters == std::vector<int64_t>{1, 2});
    CHECK(a.threshold == 0.4);
    a = allocateByFrequency(f, 2);
    CHECK(a.clusters == std::vector<int64_t>{1, 1});
    CHECK(std::isinf(a.threshold));
    CHECK(allocateByFrequency(f, 8).clusters == std::vector<int64_t>{4, 4});
    // Ties at the threshold go to the earlier layer, then the lower expert index.
    CHECK(allocateByFrequency(f, 5).clusters == std::vector<int64_t>{3, 2});
    CHECK(allocateByFrequency({{0.2, 0.1, 0.1}, {0.3, 0.1}}, 3).clusters == std::vector<int64_t>{2, 1});
  }
  SECTION("frequency: every layer keeps at least one cluster") {
    const FrequencyAllocation a = allocateByFrequency({{0.9, 0.8, 0.7}, {0.01, 0.01}}, 3);
    CHECK(a.clusters == std::vector<int64_t>{2, 1});
    CHECK(a.threshold == 0.8);
  }
  SECTION("frequency: errors") {
    requireInvalid([] { allocateByFrequency({{0.5, 0.5}, {1.0}}, 1); });
    requireInvalid([] { allocateByFrequency({{0.5, 0.5}, {1.0}}, 4); });
    requireInvalid([] { allocateByFrequency({{0.5, -0.1}}, 1); });
    requireInvalid([] { allocateByFrequency({{0.5, std::nan("")}}, 1); });
    requireInvalid([] { allocateByFrequency({{0.5}, {}}, 1); });
    requireInvalid([] { allocateByFrequency({}, 1); });
  }
  SECTION("frequency on the reference usage frequencies") {
    for (const std::string& arch : kArchitectures) {
      INFO(arch);
      h5::File file(referencePath(arch), h5::File::Mode::Read);
      std::vector<std::vector<double>> freq;
      for (const std::string& layer : file.children("layers"))
        freq.push_back(file.readDouble("layers/" + layer + "/usage_frequency").data);
      const auto layers = static_cast<int64_t>(freq.size());
      const auto experts = static_cast<int64_t>(freq[0].size());
      for (int64_t budget = layers; budget <= layers * experts; ++budget) {
        const FrequencyAllocation a = allocateByFrequency(freq, budget);
        CHECK(std::accumulate(a.clusters.begin(), a.clusters.end(), int64_t{0}) == budget);
        for (size_t l = 0; l < freq.size(); ++l) {
          CHECK(a.clusters[l] >= 1);
          CHECK(a.clusters[l] <= experts);
          // A layer never keeps fewer clusters than it has experts strictly above the threshold.
          const auto above = std::count_if(freq[l].begin(), freq[l].end(), [&](double v) { return v > a.threshold; });
          CHECK(a.clusters[l] >= std::max<int64_t>(1, above));
        }
      }
    }
  }
  SECTION("distance threshold") {
    h5::File file(referencePath("mixtral"), h5::File::Mode::Read);
    std::vector<Linkage> trees;
    for (const std::string& layer : file.children("layers"))
      trees.push_back(readLinkage(file, "layers/" + layer + "/linkage_average"));
    const double h = trees[0].merges[3].height;  // exactly a merge height: that merge is applied
    const std::vector<int64_t> k = allocateByDistanceThreshold(trees, h);
    REQUIRE(k.size() == trees.size());
    CHECK(k[0] == trees[0].n - 4);
    for (size_t l = 0; l < trees.size(); ++l) {
      const auto applied = std::count_if(trees[l].merges.begin(), trees[l].merges.end(),
                                         [&](const Merge& m) { return m.height <= h; });
      CHECK(k[l] == trees[l].n - applied);
    }
    CHECK(allocateByDistanceThreshold(trees, -1.0) == std::vector<int64_t>(trees.size(), trees[0].n));
    CHECK(allocateByDistanceThreshold(trees, 1e30) == std::vector<int64_t>(trees.size(), 1));
    requireInvalid([&] { allocateByDistanceThreshold(trees, std::nan("")); });
    requireInvalid([] { allocateByDistanceThreshold({}, 1.0); });
  }
}

TEST_CASE("errors: bad input is rejected with InvalidArgument", "[cluster][errors]") {
  const std::vector<double> ok = {0, 1, 3};
  const std::vector<double> withNan = {0, std::nan(""), 3};
  const std::vector<double> zeros = {0, 0, 1, 1};
  requireInvalid([&] { pdist(ok.data(), 0, 3, DistanceMetric::Euclidean); });
  requireInvalid([&] { pdist(ok.data(), 3, 0, DistanceMetric::Euclidean); });
  requireInvalid([&] { pdist(withNan.data(), 3, 1, DistanceMetric::Euclidean); });
  requireInvalid([&] { pdist(zeros.data(), 2, 2, DistanceMetric::Cosine); });
  requireInvalid([&] { squareDistances(withNan.data(), 3, 1, DistanceMetric::Cosine); });
  requireInvalid([] { parseDistanceMetric("manhattan"); });
  requireInvalid([] { parseLinkageMethod("centroid"); });

  // Square matrices that are not distances.
  const std::vector<double> asym = {0, 1, 2, 0};
  const std::vector<double> negative = {0, -1, -1, 0};
  const std::vector<double> diagonal = {1, 1, 1, 0};
  const std::vector<double> infinite = {0, INFINITY, INFINITY, 0};
  requireInvalid([&] { condensedFromSquare(asym.data(), 2); });
  requireInvalid([&] { condensedFromSquare(negative.data(), 2); });
  requireInvalid([&] { condensedFromSquare(diagonal.data(), 2); });
  requireInvalid([&] { condensedFromSquare(infinite.data(), 2); });
  requireInvalid([&] { condensedFromSquare(asym.data(), 0); });
  // linkageFromSquare checks its input the same way, with the same messages.
  auto messageOf = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  for (const std::vector<double>* bad : {&asym, &negative, &diagonal, &infinite})
    for (LinkageMethod m : kMethods)
      CHECK(messageOf([&] { linkageFromSquare(bad->data(), 2, m); }) ==
            messageOf([&] { condensedFromSquare(bad->data(), 2); }));

  // Larger matrices are checked tile by tile: the condensed values are the upper triangle in row
  // order, and a failure still names the first offending entry in row order.
  {
    const int64_t n = 100;
    std::vector<double> sq(static_cast<size_t>(n * n));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) sq[static_cast<size_t>(i * n + j)] = i == j ? 0 : 1.0 + std::abs(i - j) + (i + j) % 7;
    const CondensedMatrix c = condensedFromSquare(sq.data(), n);
    size_t at = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) REQUIRE(c.values()[at++] == sq[static_cast<size_t>(i * n + j)]);
    auto message = [&](std::vector<double> m) { return messageOf([&] { condensedFromSquare(m.data(), n); }); };
    std::vector<double> bad = sq;
    bad[static_cast<size_t>(90 * n + 3)] += 1;   // (3, 90): far from the diagonal, another tile
    bad[static_cast<size_t>(40 * n + 35)] += 1;  // (35, 40): nearer the diagonal, a later row
    CHECK(message(bad).find("not symmetric at (3, 90)") != std::string::npos);
    for (LinkageMethod m : kMethods)
      CHECK(messageOf([&] { linkageFromSquare(bad.data(), n, m); }) == message(bad));
    bad[static_cast<size_t>(2 * n + 2)] = 5;     // a diagonal entry in an earlier row comes first
    CHECK(message(bad).find("diagonal entry (2, 2)") != std::string::npos);
    bad[static_cast<size_t>(70 * n + 71)] = NAN;  // a non-finite entry comes before everything
    CHECK(message(bad).find("entry (70, 71) = nan is not a finite") != std::string::npos);
    for (LinkageMethod m : kMethods)
      CHECK(messageOf([&] { linkageFromSquare(bad.data(), n, m); }) == message(bad));
    // One defect at a time, in either triangle, in a diagonal tile and in the last, partial tile:
    // linkageFromSquare checks while it copies, and must reject exactly what the check rejects (a
    // change within the tolerance is accepted by both).
    for (const auto& [i, j] : std::vector<std::pair<int64_t, int64_t>>{{99, 2}, {5, 97}, {33, 33}, {64, 40}, {40, 64}})
      for (const double v : {static_cast<double>(NAN), -1.0, static_cast<double>(INFINITY), 1.0, 1e-9}) {
        std::vector<double> one = sq;
        double& entry = one[static_cast<size_t>(i * n + j)];
        entry = v == 1.0 || v == 1e-9 ? entry + v : v;
        INFO("(" << i << ", " << j << ") " << v << ": " << message(one));
        CHECK((message(one) == "accepted") == (v == 1e-9));
        for (LinkageMethod m : kMethods)
          CHECK(messageOf([&] { linkageFromSquare(one.data(), n, m); }) == message(one));
      }
  }
  requireInvalid([] { CondensedMatrix(3, {1.0, 2.0}); });
  requireInvalid([] { CondensedMatrix(0, {}); });
  requireInvalid([] { CondensedMatrix(2, {1.0})(0, 2); });

  // Linkage of non-finite or negative distances, or of nothing.
  for (LinkageMethod m : kMethods) {
    requireInvalid([&] { linkage(CondensedMatrix(3, {1.0, NAN, 2.0}), m); });
    requireInvalid([&] { linkage(CondensedMatrix(3, {1.0, INFINITY, 2.0}), m); });
    requireInvalid([&] { linkage(CondensedMatrix(2, {-1.0}), m); });
    requireInvalid([&] { linkage(CondensedMatrix(), m); });
  }

  // Malformed linkage matrices and trees.
  requireInvalid([] { fromRows({{0, 0, 1, 2}}); });             // merges a cluster with itself
  requireInvalid([] { fromRows({{0, 2, 1, 2}}); });             // cluster 2 not formed yet
  requireInvalid([] { fromRows({{0, 1, 1, 3}}); });             // wrong size
  requireInvalid([] { fromRows({{0, 1, NAN, 2}}); });           // NaN height
  requireInvalid([] { fromRows({{0, 1.5, 1, 2}}); });           // non-integral id
  requireInvalid([] { fromRows({{0, 1, 1, 2}, {0, 2, 2, 2}}); });  // 0 used twice

  const std::vector<double> line = {0, 1, 3};
  const Linkage z = linkage(pdist(line.data(), 3, 1, DistanceMetric::Euclidean), LinkageMethod::Average);
  requireInvalid([&] { cutTree(z, 0); });
  requireInvalid([&] { cutTree(z, 4); });
  requireInvalid([&] { cutTree(z, -1); });
  requireInvalid([&] { cutAtHeight(z, NAN); });
  requireInvalid([&] { toNewick(z, {"a", "b"}); });
  requireInvalid([&] { toNewick(z, {}, 0); });
  requireInvalid([&] { copheneticCorrelation(z, CondensedMatrix(2, {1.0})); });
  Linkage broken = z;
  broken.merges.pop_back();
  requireInvalid([&] { cutTree(broken, 1); });
  requireInvalid([&] { leavesList(broken); });
  broken = z;
  broken.merges[1].size = 7;
  requireInvalid([&] { buildTree(broken); });
  requireInvalid([&] { cutTree(Linkage{}, 1); });
}
