#pragma once
// Reuses large tensor buffers between layers. Every decoder layer of a model has the same weight
// shapes, and on these machines touching freshly allocated pages costs more than converting the
// weights into them, so a layer's stacked expert weights land in the buffers the previous layer
// used once nothing references them any more.
#include <ATen/ATen.h>

#include <vector>

namespace moe {

class BufferPool {
 public:
  // A tensor of this shape and options, reusing a free buffer of the same size when there is one.
  at::Tensor take(at::IntArrayRef sizes, const at::TensorOptions& options);
  void clear() { buffers_.clear(); }

 private:
  std::vector<at::Tensor> buffers_;
};

}  // namespace moe
