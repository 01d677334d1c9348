#pragma once
// HC-SMoE statistics of one MoE block, gathered in one streaming pass over calibration tokens.
// Plain data (no torch), so the store, the clustering and the GUI can use it without libtorch.
#include <cstdint>
#include <string>
#include <vector>

namespace moe {

// Row-major dense matrix of doubles.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> data;
  Matrix() = default;
  Matrix(int64_t r, int64_t c) : rows(r), cols(c), data(static_cast<size_t>(r * c), 0.0) {}
  double& operator()(int64_t r, int64_t c) { return data[static_cast<size_t>(r * cols + c)]; }
  double operator()(int64_t r, int64_t c) const { return data[static_cast<size_t>(r * cols + c)]; }
  bool empty() const { return data.empty(); }
};

// What an expert is represented by when experts are compared.
enum class Representation {
  ExpertOutput,        // mean expert output over ALL calibration tokens (the paper's choice)
  ExpertOutputRouted,  // mean expert output over the tokens routed to the expert only
  RouterLogits,        // the expert's router-logit column over the calibration tokens
  Weights,             // the expert's flattened gate, up and down weights
};
const char* representationName(Representation r);  // "expert_output", "expert_output_routed", ...
Representation parseRepresentation(const std::string& name);
std::vector<Representation> allRepresentations();

struct LayerStats {
  int moeIndex = 0;        // j-th MoE block
  int layer = 0;           // decoder layer index
  std::string prefix;      // on-disk prefix, e.g. "model.layers.3.block_sparse_moe."
  int64_t numExperts = 0, topK = 0, hidden = 0;
  int64_t tokens = 0;      // calibration tokens seen
  bool hasSharedExpert = false;

  std::vector<int64_t> selectionCounts;  // [E] top-k selections under the architecture's rule
  std::vector<double> usageFrequency;    // [E] selectionCounts / all selections
  std::vector<double> softUsage;         // [E] mean routing probability (softmax, or sigmoid for DeepSeek)
  std::vector<double> reapScore;         // [E] mean over routed tokens of gate weight x ||expert output||
  Matrix expertOutputMean;               // [E, H] over all tokens
  Matrix expertOutputMeanRouted;         // [E, H] over routed tokens (zero row when never routed)
  // Gram matrices (X X^T) of the other representations: distances follow exactly from them
  // without storing [E, tokens] or [E, params] matrices.
  Matrix routerLogitGram;                // [E, E]
  Matrix weightGram;                     // [E, E]
  int64_t weightParamsPerExpert = 0;

  // Square [E, E] distance matrix between experts for a representation: "euclidean" or "cosine".
  Matrix distances(Representation r, const std::string& metric) const;
};

}  // namespace moe
