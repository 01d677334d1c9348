#pragma once
// The cancel flag and generation number of a background job that a newer request replaces (the
// estimate's models, the prefetched trees, the exact errors' cache): starting or cancelling sets
// the running job's own flag, which its worker polls, and bumps the generation, so that results
// still in flight from it are dropped when they arrive. Plain data, GUI thread only.
#include <atomic>
#include <memory>

namespace moe {
namespace gui {

class JobGeneration {
 public:
  // Cancels whatever runs and returns the new job's generation; flag() is the new job's.
  int start() {
    cancel();
    flag_ = std::make_shared<std::atomic<bool>>(false);
    return generation_;
  }
  // Stops the running job and drops whatever it still sends.
  void cancel() {
    if (flag_) *flag_ = true;
    ++generation_;
  }
  bool isCurrent(int generation) const { return generation == generation_; }
  int current() const { return generation_; }
  const std::shared_ptr<std::atomic<bool>>& flag() const { return flag_; }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
  int generation_ = 0;
};

}  // namespace gui
}  // namespace moe
