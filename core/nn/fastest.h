#pragma once
// The shortest of a few timed runs: the one-time kernel choices (functional.cpp, small_rows_linear.cpp)
// compare best cases, which the load of a shared machine disturbs least.
#include <algorithm>
#include <chrono>

namespace moe {

template <typename F>
double fastestSeconds(F&& f, int runs = 3) {
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace moe
