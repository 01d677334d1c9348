#include "core/model/staged_bytes.h"

#include "core/error.h"

namespace moe {

void StagedBytes::add(const TensorInfo& stored, at::Tensor bytes) {
  if (bytes.scalar_type() != at::kByte || bytes.dim() != 1 || bytes.numel() != static_cast<int64_t>(stored.nbytes))
    throw Error(ErrorKind::InvalidArgument, "staged copy of tensor '" + stored.name + "': expected " +
                                                std::to_string(stored.nbytes) + " bytes");
  bytes_[{stored.data, stored.nbytes}] = std::move(bytes);
}

at::Tensor StagedBytes::bytes(const TensorInfo& stored) const {
  auto it = bytes_.find({stored.data, stored.nbytes});
  return it == bytes_.end() ? at::Tensor() : it->second;
}

at::Tensor StagedBytes::view(const TensorInfo& stored, at::ScalarType type) const {
  const at::Tensor raw = bytes(stored);
  if (!raw.defined()) return raw;
  int64_t numel = 1;
  for (int64_t d : stored.shape) numel *= d;
  if (numel * static_cast<int64_t>(c10::elementSize(type)) != static_cast<int64_t>(stored.nbytes))
    throw Error(ErrorKind::Shape, stored.file + ": tensor '" + stored.name + "' holds " +
                                      std::to_string(stored.nbytes) + " bytes, not " + shapeString(stored.shape) +
                                      " of " + c10::toString(type));
  if (numel == 0) return at::empty(stored.shape, raw.options().dtype(type));
  return raw.view(type).view(stored.shape);
}

int64_t StagedBytes::totalBytes() const {
  int64_t n = 0;
  for (const auto& [_, t] : bytes_) n += t.numel();
  return n;
}

}  // namespace moe
