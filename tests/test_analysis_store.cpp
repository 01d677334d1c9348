// The analysis store does not trust its file: a damaged or hand-edited store (well-formed HDF5 with
// wrong ranks, shapes, types or values) gives a Format error naming the dataset or attribute, never
// an out-of-bounds read, an abort or a library exception. Each case below is a finding of the store
// fuzzer (tests/fuzz/fuzz_analysis_store.cpp), applied to a small valid store written here.
#include "tests/catch.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/analysis/clustering.h"
#include "core/analysis/store.h"
#include "core/error.h"
#include "core/io/h5file.h"

namespace fs = std::filesystem;
using moe::ErrorKind;

namespace {

constexpr int64_t E = 4, H = 3, kSequences = 2, kLength = 5;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("moescope-store-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

moe::Matrix filled(int64_t rows, int64_t cols, double start) {
  moe::Matrix m(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) m.data[static_cast<size_t>(i)] = start + static_cast<double>(i * i % 7);
  return m;
}

moe::Matrix gram(const moe::Matrix& x) {
  moe::Matrix g(x.rows, x.rows);
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < x.rows; ++j)
      for (int64_t c = 0; c < x.cols; ++c) g(i, j) += x(i, c) * x(j, c);
  return g;
}

moe::LayerStats layer(int moeIndex, int decoderLayer) {
  moe::LayerStats s;
  s.moeIndex = moeIndex;
  s.layer = decoderLayer;
  s.prefix = "model.layers." + std::to_string(decoderLayer) + ".mlp.";
  s.numExperts = E;
  s.topK = 2;
  s.hidden = H;
  s.tokens = kSequences * kLength;
  s.selectionCounts = {6, 5, 5, 4};
  s.usageFrequency = {0.3, 0.25, 0.25, 0.2};
  s.softUsage = {0.3, 0.2, 0.3, 0.2};
  s.reapScore = {1.0, 2.0, 0.5, 0.25};
  s.expertOutputMean = filled(E, H, 1);
  s.expertOutputMeanRouted = filled(E, H, 2);
  s.routerLogitGram = gram(filled(E, 6, 0.5));
  s.weightGram = gram(filled(E, 5, 1.5));
  s.weightParamsPerExpert = 5;
  return s;
}

// A valid store: three decoder layers, MoE blocks at 1 and 2, both analysed.
std::string validStore(const fs::path& dir) {
  moe::AnalysisInfo info;
  info.modelDir = "/nonexistent/model";
  info.modelType = "mixtral";
  info.modelFingerprint = "0123456789abcdef";
  info.calibrationFingerprint = "fedcba9876543210";
  info.settings = {{"calibration", "calib.jsonl"}, {"statistic", "all"}, {"dtype", "fp32"}};
  info.numLayers = 3;
  info.moeLayers = {1, 2};
  info.denseLayers = {0};
  info.numExperts = E;
  info.topK = 2;
  info.hidden = H;
  info.tokenShape = {kSequences, kLength};
  for (int64_t t = 0; t < kSequences * kLength; ++t) info.tokenIds.push_back(t + 7);
  const std::string path = (dir / "store.h5").string();
  auto store = moe::AnalysisStore::create(path, info);
  store.writeLayer(layer(0, 1));
  store.writeLayer(layer(1, 2));
  return path;
}

// Opens the store and reads and clusters every analysed block as `moescope-cli cluster` does.
void readEverything(const std::string& path) {
  const auto store = moe::AnalysisStore::open(path);
  for (int j : store.completedLayers()) {
    const moe::LayerStats s = store.readLayer(j);
    for (moe::Representation r : moe::allRepresentations()) {
      moe::ClusteringChoice choice;
      choice.representation = r;
      moe::buildLayerTree(s, choice);
    }
  }
}

struct Failure {
  ErrorKind kind;
  std::string message;
};

// The moe::Error that reading the edited store ends in. Any other exception escapes and fails the test.
Failure failureAfter(const std::string& path, const std::function<void(moe::h5::File&)>& edit) {
  {
    moe::h5::File f(path, moe::h5::File::Mode::ReadWrite);
    edit(f);
  }
  try {
    readEverything(path);
  } catch (const moe::Error& e) {
    return {e.kind(), e.what()};
  }
  FAIL("the edited store was accepted");
  return {ErrorKind::Io, ""};
}

std::vector<double> values(int64_t n, double v) { return std::vector<double>(static_cast<size_t>(n), v); }

}  // namespace

TEST_CASE("a valid hand-made store reads back and clusters", "[store]") {
  TempDir tmp;
  const std::string path = validStore(tmp.path);
  REQUIRE_NOTHROW(readEverything(path));
  const auto store = moe::AnalysisStore::open(path);
  CHECK(store.info().moeLayers == std::vector<int>{1, 2});
  CHECK(store.readLayer(1).weightGram.rows == E);
  CHECK(store.readLayer(1).expertOutputMean(3, 2) == layer(1, 2).expertOutputMean(3, 2));
}

TEST_CASE("stored datasets of the wrong rank or shape are Format errors naming the dataset", "[store]") {
  TempDir tmp;
  struct Case {
    const char* dataset;
    moe::h5::Shape shape;
  };
  const Case cases[] = {
      {"layers/0/weight_gram", {E, E - 1}},            // non-square Gram: was read out of bounds by the clustering
      {"layers/0/router_logit_gram", {E + 1, E + 1}},  // square, but not E x E
      {"layers/1/router_logit_gram", {}},              // a scalar where a matrix belongs (was std::out_of_range)
      {"layers/0/expert_output_mean", {E * H}},        // 1-D (was silently accepted)
      {"layers/0/expert_output_mean", {E, H, 1}},      // 3-D (was silently accepted)
      {"layers/1/expert_output_mean_routed", {E, H + 1}},
      {"layers/0/usage_frequency", {E - 1}},
      {"layers/0/soft_usage", {E, 1}},
      {"layers/1/reap_score", {}},
      {"layers/0/selection_counts", {E + 2}},
      {"calibration/token_ids", {kSequences * kLength}},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.dataset << " as rank " << c.shape.size()) {
      const std::string path = validStore(tmp.path);
      int64_t n = 1;
      for (int64_t d : c.shape) n *= d;
      const Failure f = failureAfter(path, [&](moe::h5::File& h) {
        const auto v = values(n, 1.0);
        h.write(c.dataset, v.data(), c.shape);
      });
      CHECK(f.kind == ErrorKind::Format);
      CHECK_THAT(f.message, moe::test::Contains(c.dataset));
    }
  }
}

TEST_CASE("non-finite or negative stored values are Format errors", "[store]") {
  TempDir tmp;
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  SECTION("NaN in a Gram matrix") {
    const Failure f = failureAfter(validStore(tmp.path), [&](moe::h5::File& h) {
      const auto v = values(E * E, nan);
      h.write("layers/1/weight_gram", v.data(), {E, E});
    });
    CHECK(f.kind == ErrorKind::Format);
    CHECK_THAT(f.message, moe::test::Contains("layers/1/weight_gram"));
  }
  SECTION("infinite usage") {
    const Failure f = failureAfter(validStore(tmp.path), [&](moe::h5::File& h) {
      const auto v = values(E, inf);
      h.write("layers/0/usage_frequency", v.data(), {E});
    });
    CHECK(f.kind == ErrorKind::Format);
    CHECK_THAT(f.message, moe::test::Contains("usage_frequency"));
  }
  SECTION("a negative selection count") {
    const Failure f = failureAfter(validStore(tmp.path), [&](moe::h5::File& h) {
      const std::vector<int64_t> v{1, -2, 3, 4};
      h.write("layers/0/selection_counts", v.data(), {E});
    });
    CHECK(f.kind == ErrorKind::Format);
    CHECK_THAT(f.message, moe::test::Contains("selection_counts"));
  }
}

TEST_CASE("integer attributes must be finite integers in range before they are converted", "[store]") {
  TempDir tmp;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    const char* object;
    const char* name;
    double value;
  };
  const Case cases[] = {
      {"/", "version", nan},
      {"/", "version", 1.5},
      {"model", "num_layers", nan},
      {"model", "num_layers", 1e300},
      {"model", "num_layers", 10'001},  // above the 10 k layer limit
      {"model", "num_experts", 1e300},
      {"model", "num_experts", 2'000'000},  // above the 1 M expert limit
      {"model", "num_experts", -4},
      {"model", "top_k", E + 1},
      {"model", "hidden_size", std::numeric_limits<double>::infinity()},
      {"layers/0", "layer", 1e20},
      {"layers/0", "layer", 2},  // a valid decoder layer, but not the one /model/moe_layers names
      {"layers/0", "num_experts", E + 1},
      {"layers/1", "top_k", 0},
      {"layers/1", "hidden_size", H - 1},
      {"layers/1", "tokens", 1e18},
      {"layers/0", "has_shared_expert", 0.5},
      {"layers/0", "weight_params_per_expert", -1},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.object << " " << c.name << " = " << c.value) {
      const Failure f =
          failureAfter(validStore(tmp.path), [&](moe::h5::File& h) { h.writeAttribute(c.object, c.name, c.value); });
      CHECK(f.kind == ErrorKind::Format);
      CHECK_THAT(f.message, moe::test::Contains(std::string("'") + c.name + "'"));
    }
  }
}

TEST_CASE("a non-scalar numeric attribute is refused, not read into one double", "[store]") {
  TempDir tmp;
  // num_experts = [8, 9] overflowed a one-double stack buffer in h5file.cpp.
  const Failure f = failureAfter(validStore(tmp.path), [](moe::h5::File& h) {
    h.writeAttribute("model", "num_experts", std::vector<double>{8, 9});
  });
  CHECK(f.kind == ErrorKind::Format);
  CHECK_THAT(f.message, moe::test::Contains("'num_experts'"));
  CHECK_THAT(f.message, moe::test::Contains("2 values"));

  const Failure complete = failureAfter(validStore(tmp.path), [](moe::h5::File& h) {
    h.writeAttribute("layers/0", "complete", std::vector<double>{1, 1, 1, 1});
  });
  CHECK(complete.kind == ErrorKind::Format);
  CHECK_THAT(complete.message, moe::test::Contains("'complete'"));
}

TEST_CASE("JSON attributes that are not JSON, or not of the expected type, are Format errors", "[store]") {
  TempDir tmp;
  struct Case {
    const char* object;
    const char* name;
    const char* text;
  };
  const Case cases[] = {
      {"/", "settings", "calibration = calib.jsonl"},  // not JSON (was nlohmann::parse_error)
      {"/", "settings", "[1, 2]"},                     // JSON, not an object
      {"/", "settings", "{\"statistic\": 3}"},         // a field of the wrong type
      {"model", "dense_layers", "{\"layer\": 0}"},     // wrong type (was nlohmann::type_error)
      {"model", "dense_layers", "[0.5]"},
      {"model", "moe_layers", "[1, 7]"},               // decoder layer outside the model
      {"model", "moe_layers", "[2, 1]"},               // not ascending
      {"model", "moe_layers", "[0, 2]"},               // overlaps dense_layers
      {"model", "moe_layers", "[1, 18446744073709551615]"},
      {"/", "model_manifest", "{\"config\": 1}"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name << " = " << c.text) {
      const Failure f =
          failureAfter(validStore(tmp.path), [&](moe::h5::File& h) { h.writeAttribute(c.object, c.name, c.text); });
      CHECK(f.kind == ErrorKind::Format);
      CHECK_THAT(f.message, moe::test::Contains(c.name));
    }
  }
  SECTION("a number where a string belongs") {
    const Failure f = failureAfter(validStore(tmp.path), [](moe::h5::File& h) { h.writeAttribute("/", "settings", 3.0); });
    CHECK(f.kind == ErrorKind::Format);
    CHECK_THAT(f.message, moe::test::Contains("settings"));
  }
}

TEST_CASE("distances refuse statistics whose matrices do not fit the expert count", "[store]") {
  // A LayerStats made in memory (not read from a file) is checked the same way before indexing.
  moe::LayerStats s = layer(0, 1);
  s.weightGram = filled(E, E - 1, 1);
  CHECK_THROWS_AS(s.distances(moe::Representation::Weights, "euclidean"), moe::Error);
  s.expertOutputMean = filled(E - 1, H, 1);
  CHECK_THROWS_AS(s.distances(moe::Representation::ExpertOutput, "euclidean"), moe::Error);
}
