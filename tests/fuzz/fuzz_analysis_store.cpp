// The analysis store reader (core/analysis/store.cpp) and the clustering path `moescope-cli
// cluster` takes from it. The HDF5 library itself is not robust to corrupt bytes, so the input is
// not a file: it is a recipe. A small valid store is written with the h5 wrapper, then each
// 4-byte record [op, target, a, b] of the input replaces a dataset or an attribute with a
// WELL-FORMED but wrong one (other rank, shape, type, NaN / huge / negative numbers, non-JSON text,
// array attributes), and the result is opened, read and clustered. Only moe::Error may come out.
//
// Records (op % 6):
//   0 reshape dataset   kDatasets[target]: rank a & 3, dims kDims[b & 7], kDims[b >> 3 & 7],
//                       kDims[a >> 2 & 7], every value kValues[a >> 5]
//   1 remove object     kDatasets ++ kGroups [target]
//   2 number attribute  kAttributes[target] = kValues[a % 16], or (a >= 16) the small integer int8(b)
//   3 string attribute  kAttributes[target] = kStrings[a]
//   4 array attribute   kAttributes[target] = [kValues[b % 16]] * (a % 4)
//   5 poke one value    kDatasets[target][a] = kValues[b % 16] (shape kept)
// Indices wrap around their table. tests/fuzz/corpus/fuzz_analysis_store/ holds the seeds, one
// regression input per finding (see its README).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/analysis/clustering.h"
#include "core/analysis/store.h"
#include "core/cluster/tree.h"
#include "core/error.h"
#include "core/io/h5file.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr int64_t E = 4, H = 3, kSequences = 2, kLength = 5;

const char* const kDatasets[] = {
    "layers/0/selection_counts",  "layers/0/usage_frequency",          "layers/0/soft_usage",
    "layers/0/reap_score",        "layers/0/expert_output_mean",       "layers/0/expert_output_mean_routed",
    "layers/0/router_logit_gram", "layers/0/weight_gram",              "layers/1/selection_counts",
    "layers/1/usage_frequency",   "layers/1/expert_output_mean",       "layers/1/router_logit_gram",
    "layers/1/weight_gram",       "calibration/token_ids",
};
const char* const kGroups[] = {"layers/0", "layers/1", "model", "calibration", "layers"};
struct Attribute {
  const char* object;
  const char* name;
};
const Attribute kAttributes[] = {
    {"/", "format"},           {"/", "version"},           {"/", "model_dir"},
    {"/", "model_type"},       {"/", "model_fingerprint"}, {"/", "calibration_fingerprint"},
    {"/", "settings"},         {"/", "model_manifest"},    {"model", "num_layers"},
    {"model", "moe_layers"},   {"model", "dense_layers"},  {"model", "num_experts"},
    {"model", "top_k"},        {"model", "hidden_size"},   {"layers/0", "layer"},
    {"layers/0", "prefix"},    {"layers/0", "num_experts"}, {"layers/0", "top_k"},
    {"layers/0", "hidden_size"}, {"layers/0", "tokens"},   {"layers/0", "has_shared_expert"},
    {"layers/0", "weight_params_per_expert"}, {"layers/0", "complete"}, {"layers/1", "layer"},
    {"layers/1", "num_experts"}, {"layers/1", "complete"},
};
const double kValues[16] = {0,    1,    -1,   std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(), 1e300, 0.5, 2, 3, E, 1e18, -4, 9.3e18,
                            1'000'001, 10'001};
const char* const kStrings[] = {
    "",        "{",      "[]",        "[0]",      "[1, 2]",    "[2, 1]",           "{\"statistic\": 3}",
    "null",    "1e400",  "[-1]",      "[18446744073709551615]", "\"x\"",  "{}", "[1.5]", "{\"a\": 1}",
    "moescope-analysis", "calibration = calib.jsonl", "{\"config\": \"0\", \"files\": [{\"name\": 1}]}",
    "{\"config\": \"0\", \"files\": []}", "[0, 1, 2]", "[1]", "{\"sequences\": \"many\"}",
};
const int64_t kDims[8] = {0, 1, E - 1, E, E + 1, H, E * H, 2};

template <typename T, size_t N>
const T& pick(const T (&table)[N], size_t i) {
  return table[i % N];
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
  s.expertOutputMean = moe::Matrix(E, H);
  s.expertOutputMeanRouted = moe::Matrix(E, H);
  for (int64_t i = 0; i < E * H; ++i) {
    s.expertOutputMean.data[static_cast<size_t>(i)] = static_cast<double>(i % 5) + moeIndex;
    s.expertOutputMeanRouted.data[static_cast<size_t>(i)] = static_cast<double>(i % 3);
  }
  s.routerLogitGram = moe::Matrix(E, E);
  s.weightGram = moe::Matrix(E, E);
  for (int64_t i = 0; i < E; ++i)
    for (int64_t j = 0; j < E; ++j) {
      s.routerLogitGram(i, j) = i == j ? 4.0 + i : 1.0;
      s.weightGram(i, j) = i == j ? 9.0 : 0.5 * static_cast<double>(i + j);
    }
  s.weightParamsPerExpert = 5;
  return s;
}

void writeValidStore(const std::string& path) {
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
  for (int64_t t = 0; t < kSequences * kLength; ++t) info.tokenIds.push_back(t);
  auto store = moe::AnalysisStore::create(path, info);
  store.writeLayer(layer(0, 1));
  store.writeLayer(layer(1, 2));
}

void applyRecord(moe::h5::File& f, uint8_t op, uint8_t target, uint8_t a, uint8_t b) {
  switch (op % 6) {
    case 0: {
      const int rank = a & 3;
      const int64_t dims[3] = {pick(kDims, b & 7), pick(kDims, (b >> 3) & 7), pick(kDims, (a >> 2) & 7)};
      moe::h5::Shape shape(dims, dims + rank);
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      const std::vector<double> v(static_cast<size_t>(n), pick(kValues, a >> 5));
      f.write(pick(kDatasets, target), v.data(), shape);
      break;
    }
    case 1: {
      constexpr size_t nd = sizeof kDatasets / sizeof *kDatasets, ng = sizeof kGroups / sizeof *kGroups;
      const size_t i = target % (nd + ng);
      f.remove(i < nd ? kDatasets[i] : kGroups[i - nd]);
      break;
    }
    case 2: {
      const Attribute& at = pick(kAttributes, target);
      f.writeAttribute(at.object, at.name, a < 16 ? kValues[a] : static_cast<double>(static_cast<int8_t>(b)));
      break;
    }
    case 3: {
      const Attribute& at = pick(kAttributes, target);
      f.writeAttribute(at.object, at.name, std::string(pick(kStrings, a)));
      break;
    }
    case 4: {
      const Attribute& at = pick(kAttributes, target);
      f.writeAttribute(at.object, at.name, std::vector<double>(a % 4, pick(kValues, b)));
      break;
    }
    case 5: {
      const char* name = pick(kDatasets, target);
      if (!f.isDataset(name)) break;
      auto d = f.readDouble(name);
      if (d.data.empty()) break;
      d.data[a % d.data.size()] = pick(kValues, b);
      f.write(name, d.data.data(), d.shape);
      break;
    }
  }
}

// What `moescope-cli cluster` does with a store: every analysed block, every tree, every cut.
void readAndCluster(const std::string& path, double height) {
  const moe::AnalysisStore store = moe::AnalysisStore::open(path);
  std::vector<moe::LayerStats> layers;
  for (int j : store.completedLayers()) {
    layers.push_back(store.readLayer(j));
    const moe::LayerStats& s = layers.back();
    // Invariants of an accepted block: every per-expert array fits E.
    FUZZ_CHECK(s.numExperts == store.info().numExperts);
    FUZZ_CHECK(static_cast<int64_t>(s.usageFrequency.size()) == s.numExperts);
    FUZZ_CHECK(static_cast<int64_t>(s.selectionCounts.size()) == s.numExperts);
    for (const moe::Matrix* m : {&s.expertOutputMean, &s.expertOutputMeanRouted, &s.routerLogitGram, &s.weightGram})
      FUZZ_CHECK(m->empty() || (m->rows == s.numExperts && static_cast<int64_t>(m->data.size()) == m->rows * m->cols));
  }
  for (moe::Representation r : moe::allRepresentations())
    for (const char* metric : {"euclidean", "cosine"})
      for (moe::LinkageMethod method : {moe::LinkageMethod::Single, moe::LinkageMethod::Average, moe::LinkageMethod::Ward}) {
        moe::ClusteringChoice choice{r, metric, method};
        std::vector<moe::LayerTree> trees;
        try {
          for (const auto& l : layers) trees.push_back(moe::buildLayerTree(l, choice));
        } catch (const moe::Error&) {
          continue;  // a representation this store lacks, or ward on cosine
        }
        const moe::AllocationRule rules[] = {moe::AllocationRule::Uniform, moe::AllocationRule::GlobalFrequency,
                                             moe::AllocationRule::DistanceThreshold};
        const double amounts[] = {2, static_cast<double>(layers.size()) * 2, height};
        for (int i = 0; i < 3; ++i) {
          try {
            const std::vector<int64_t> k = moe::allocateClusters(layers, trees, rules[i], amounts[i]);
            FUZZ_CHECK(k.size() == layers.size());
            for (size_t j = 0; j < k.size(); ++j)
              FUZZ_CHECK(moe::canonicalLabels(moe::cutTree(trees[j].linkage, k[j])).size() ==
                         static_cast<size_t>(layers[j].numExperts));
          } catch (const moe::Error&) {
          }
        }
      }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = moe::fuzz::scratchDir() + "/store.h5";
  writeValidStore(path);
  {
    moe::h5::File f(path, moe::h5::File::Mode::ReadWrite);
    for (size_t i = 0; i + 4 <= size && i < 4 * 64; i += 4) {
      try {
        applyRecord(f, data[i], data[i + 1], data[i + 2], data[i + 3]);
      } catch (const moe::Error&) {
        // the wrapper refused to write this one (e.g. a dataset under a removed path): skip it
      }
    }
  }
  try {
    readAndCluster(path, size > 0 ? static_cast<double>(data[size - 1]) / 16.0 : 1.0);
  } catch (const moe::Error&) {
  }
  return 0;
}
