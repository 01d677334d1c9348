#pragma once
// How long an analysis will take, shown before it starts: the work counted from the model's
// shapes, divided by the matrix-multiply speed measured on this machine in the same dtype.
#include <cstdint>
#include <string>

#include "core/analysis/analyzer.h"

namespace moe {

// GFLOP/s of an [m, k] x [k, n] matrix product in the runtime's dtype and device (best of a few
// repetitions within about `budgetSeconds`).
double measureMatmulGflops(const Runtime& rt, int64_t m, int64_t k, int64_t n, double budgetSeconds = 0.3);

class Architecture;
class ModelConfig;

// Floating-point operations of the statistics pass, counted from the model's shapes alone.
struct AnalysisWork {
  double flops = 0;        // whole pass: expert evaluation plus the rest of each layer
  double expertFlops = 0;  // expert evaluation alone
};
AnalysisWork analysisWork(const ModelConfig& config, const Architecture& arch, int64_t sequences, int64_t length,
                          bool allTokens);
// The same from a model folder's config.json, without opening the weights (the explorer's
// analysis dialog). Throws what reading the config throws (Io, Format, Config, Unsupported).
AnalysisWork analysisWork(const std::string& modelDir, int64_t sequences, int64_t length, bool allTokens);

struct AnalysisEstimate {
  double flops = 0;        // whole pass: expert evaluation plus the rest of each layer
  double expertFlops = 0;  // expert evaluation alone
  double gflopsPerSecond = 0;
  double seconds = 0;
};

AnalysisEstimate estimateAnalysis(const Model& model, int64_t sequences, int64_t length, const AnalysisOptions& options);

}  // namespace moe
