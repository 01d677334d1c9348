#include "core/nn/buffer_pool.h"

namespace moe {

at::Tensor BufferPool::take(at::IntArrayRef sizes, const at::TensorOptions& options) {
  int64_t numel = 1;
  for (int64_t d : sizes) numel *= d;
  for (const at::Tensor& b : buffers_) {
    // Free when the pool holds the only reference to the storage (views share it).
    if (b.storage().use_count() == 1 && b.numel() == numel && b.dtype() == options.dtype() &&
        b.device() == options.device())
      return b.view(sizes);
  }
  buffers_.push_back(at::empty(sizes, options));
  return buffers_.back().view(sizes);
}

}  // namespace moe
