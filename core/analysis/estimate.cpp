#include "core/analysis/estimate.h"

#include <chrono>
#include <filesystem>

#include "core/arch/architecture.h"
#include "core/model/config.h"

namespace moe {

double measureMatmulGflops(const Runtime& rt, int64_t m, int64_t k, int64_t n, double budgetSeconds) {
  at::Tensor a = at::randn({m, k}, at::TensorOptions().dtype(at::kFloat)).to(rt.device, rt.dtype);
  at::Tensor b = at::randn({k, n}, at::TensorOptions().dtype(at::kFloat)).to(rt.device, rt.dtype);
  at::Tensor c = at::matmul(a, b);  // warm-up (thread pools, oneDNN kernels, CUDA context)
  if (rt.device.is_cuda()) c.cpu();
  double best = 0, spent = 0;
  for (int rep = 0; rep < 20 && (rep < 2 || spent < budgetSeconds); ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    c = at::matmul(a, b);
    if (rt.device.is_cuda()) c.sum().item<float>();  // wait for the kernel
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spent += s;
    if (s > 0) best = std::max(best, 2.0 * m * k * n / s / 1e9);
  }
  return best;
}

AnalysisWork analysisWork(const ModelConfig& c, const Architecture& arch, int64_t sequences, int64_t length,
                          bool allTokens) {
  AnalysisWork w;
  const double N = static_cast<double>(sequences * length);
  const double H = static_cast<double>(c.hiddenSize);
  const double I = static_cast<double>(c.moeIntermediateSize > 0 ? c.moeIntermediateSize : c.intermediateSize);
  const double E = static_cast<double>(c.numExperts), k = static_cast<double>(c.topK);
  // Attention projections and scores plus a dense-sized MLP per layer: a rough but honest bound
  // for the non-expert part, which is small next to evaluating every expert on every token.
  const double attention = 2.0 * N * H * 4 * H + 4.0 * N * static_cast<double>(length) * H;
  const double moeBlock = allTokens ? E * N * 4 * H * I + k * N * 2 * I * H : k * N * 6 * H * I;
  const double routedForward = k * N * 6 * H * I;  // the block's own forward
  // Nothing after the last MoE block is computed.
  int last = 0;
  for (int l = 0; l < static_cast<int>(c.numLayers); ++l)
    if (arch.isMoeLayer(l)) last = l + 1;
  for (int l = 0; l < last; ++l) {
    w.flops += attention;
    if (arch.isMoeLayer(l)) {
      w.flops += moeBlock + routedForward;
      w.expertFlops += moeBlock;
    } else {
      w.flops += 6.0 * N * H * static_cast<double>(c.intermediateSize);
    }
  }
  return w;
}

AnalysisWork analysisWork(const std::string& modelDir, int64_t sequences, int64_t length, bool allTokens) {
  const ModelConfig config = ModelConfig::fromFile((std::filesystem::path(modelDir) / "config.json").string());
  return analysisWork(config, *makeArchitecture(config), sequences, length, allTokens);
}

AnalysisEstimate estimateAnalysis(const Model& model, int64_t sequences, int64_t length, const AnalysisOptions& options) {
  AnalysisEstimate e;
  const ModelConfig& c = model.config();
  const double I = static_cast<double>(c.moeIntermediateSize > 0 ? c.moeIntermediateSize : c.intermediateSize);
  const AnalysisWork w = analysisWork(c, model.arch(), sequences, length, options.allTokens);
  e.flops = w.flops;
  e.expertFlops = w.expertFlops;
  const int64_t chunk = std::min<int64_t>(options.tokenChunk, sequences * length);
  e.gflopsPerSecond = measureMatmulGflops(model.runtime(), chunk, c.hiddenSize, static_cast<int64_t>(I));
  e.seconds = e.gflopsPerSecond > 0 ? e.flops / (e.gflopsPerSecond * 1e9) : 0;
  return e;
}

}  // namespace moe
