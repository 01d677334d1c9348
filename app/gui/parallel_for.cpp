#include "app/gui/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

namespace moe {
namespace gui {

void parallelFor(int n, const std::function<void(int)>& body) {
  if (n <= 0) return;
  std::atomic<int> next{0};
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  auto work = [&] {
    for (int i = next++; i < n; i = next++) {
      try {
        body(i);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
      }
    }
  };
  const int cores = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
  std::vector<std::thread> helpers;
  for (int h = 1; h < std::min(n, cores); ++h) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace gui
}  // namespace moe
