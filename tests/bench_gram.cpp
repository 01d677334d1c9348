// Weight-Gram benchmark (a program, not a test: timings depend on the machine). Times core's
// addGram, which the analysis runs once per MoE block on the experts' flattened weights, on S random
// rows of N values in each input type the analysis passes it, and prints the median of REPEATS runs
// and the rate in useful GFLOP/s (the upper triangle only: S (S + 1) N multiply-adds' worth).
//   build/tests/bench_gram [S (default 60)] [N (default 8650752: Qwen1.5-MoE's 3 x 2048 x 1408)] [REPEATS (default 3)]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/nn/gram.h"
#include "core/nn/runtime.h"

int main(int argc, char** argv) {
  const int64_t S = argc > 1 ? std::max(1L, std::atol(argv[1])) : 60;
  const int64_t N = argc > 2 ? std::max(1L, std::atol(argv[2])) : int64_t{3} * 2048 * 1408;
  const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  moe::initThreads(0);
  at::manual_seed(1);
  std::printf("Gram of %lld rows x %lld values, %d threads, %d runs\n", static_cast<long long>(S),
              static_cast<long long>(N), at::get_num_threads(), repeats);
  using moe::GramSums;
  struct Case {
    at::ScalarType type;
    GramSums sums;
    const char* name;
  };
  at::Tensor reference;  // the bf16 rows' float64 sums
  for (const Case& c : {Case{at::kBFloat16, GramSums::Float64, "bf16, float64 sums"},
                        Case{at::kBFloat16, GramSums::Float32Blocks, "bf16, float32 blocks"},
                        Case{at::kFloat, GramSums::Float64, "fp32, float64 sums"}}) {
    at::manual_seed(1);
    const at::Tensor rows = (at::randn({S, N}) * 0.02).to(c.type);
    std::vector<double> seconds;
    at::Tensor gram;
    for (int r = 0; r < repeats; ++r) {
      gram = at::zeros({S, S}, at::kDouble);
      const auto start = std::chrono::steady_clock::now();
      moe::addGram(rows, gram, c.sums);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds[seconds.size() / 2];
    const double flops = static_cast<double>(S) * static_cast<double>(S + 1) * static_cast<double>(N);
    std::printf("%-22s median %7.3f s  fastest %7.3f s  %6.1f GFLOP/s", c.name, median, seconds.front(),
                flops / median / 1e9);
    if (c.type == at::kBFloat16 && c.sums == GramSums::Float64) reference = gram;
    if (c.type == at::kBFloat16 && c.sums != GramSums::Float64) {
      const at::Tensor norms = reference.diagonal().sqrt();
      const double worst = ((gram - reference).abs() / at::outer(norms, norms)).max().item<double>();
      std::printf("  largest difference %.2e of |a_i| |a_j|%s", worst,
                  moe::cpuHasAvx512Bf16() ? "" : " (no AVX512-BF16 here: float64 sums)");
    }
    std::printf("\n");
  }
  return 0;
}
