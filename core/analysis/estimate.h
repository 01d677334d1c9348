#pragma once
// How long an analysis will take, shown before it starts: the work counted from the model's
// shapes, divided by the matrix-multiply speed measured on this machine in the same dtype.
#include <cstdint>

#include "core/analysis/analyzer.h"

namespace moe {

// GFLOP/s of an [m, k] x [k, n] matrix product in the runtime's dtype and device (best of a few
// repetitions within about `budgetSeconds`).
double measureMatmulGflops(const Runtime& rt, int64_t m, int64_t k, int64_t n, double budgetSeconds = 0.3);

struct AnalysisEstimate {
  double flops = 0;        // whole pass: expert evaluation plus the rest of each layer
  double expertFlops = 0;  // expert evaluation alone
  double gflopsPerSecond = 0;
  double seconds = 0;
};

AnalysisEstimate estimateAnalysis(const Model& model, int64_t sequences, int64_t length, const AnalysisOptions& options);

}  // namespace moe
