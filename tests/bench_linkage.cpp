// Linkage benchmark (a program, not a test: timings depend on the machine). Links the Euclidean
// distances of N random points (fixed seed, 64 dimensions) with each method, as the explorer links
// a block's stored square matrix (core's linkageFromSquare, its checks included), and prints the
// fastest and the median of REPEATS runs.
//   build/tests/bench_linkage [N (default 512)] [REPEATS (default 50)]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/cluster/linkage.h"

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::max(2L, std::atol(argv[1])) : 512;
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 50;
  constexpr int64_t dims = 64;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal;
  std::vector<double> points(static_cast<size_t>(n * dims));
  for (double& v : points) v = normal(rng);
  std::vector<double> square(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < dims; ++k) {
        const double d = points[static_cast<size_t>(i * dims + k)] - points[static_cast<size_t>(j * dims + k)];
        s += d * d;
      }
      square[static_cast<size_t>(i * n + j)] = std::sqrt(s);
    }
  std::printf("linkage of %lld points (%lld x %lld square distances, checks included), %d runs\n",
              static_cast<long long>(n), static_cast<long long>(n), static_cast<long long>(n), repeats);
  for (moe::LinkageMethod method : {moe::LinkageMethod::Average, moe::LinkageMethod::Complete,
                                    moe::LinkageMethod::Ward, moe::LinkageMethod::Single}) {
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
      const auto start = std::chrono::steady_clock::now();
      const moe::Linkage z = moe::linkageFromSquare(square.data(), n, method);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (z.merges.size() != static_cast<size_t>(n - 1)) return 1;
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%-9s fastest %6.3f ms   median %6.3f ms\n", moe::linkageMethodName(method), ms.front(),
                ms[ms.size() / 2]);
  }
  return 0;
}
