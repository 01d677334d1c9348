#pragma once
// Stored tensors' raw bytes, copied ahead of use: the next decoder layer's, onto the compute device
// while the current layer computes (core/engine/layer_stager.h). Found by the mapped bytes they copy,
// and read through the same dtype and shape as the mapping would be.
#include <ATen/ATen.h>

#include <map>
#include <utility>

#include "core/model/safetensors.h"

namespace moe {

class StagedBytes {
 public:
  // `bytes`: a [stored.nbytes] uint8 tensor holding stored.data's bytes.
  void add(const TensorInfo& stored, at::Tensor bytes);
  // The stored tensor (its own dtype's bytes, its own shape) as `type` on the copy's device, without a
  // copy; undefined when it was not staged.
  at::Tensor view(const TensorInfo& stored, at::ScalarType type) const;
  // The raw copy, [stored.nbytes] uint8; undefined when it was not staged.
  at::Tensor bytes(const TensorInfo& stored) const;
  size_t size() const { return bytes_.size(); }
  int64_t totalBytes() const;
  // Every copy, e.g. to mark it used by another stream.
  template <typename Fn>
  void forEach(Fn&& fn) const {
    for (const auto& [_, t] : bytes_) fn(t);
  }

 private:
  std::map<std::pair<const uint8_t*, size_t>, at::Tensor> bytes_;
};

}  // namespace moe
