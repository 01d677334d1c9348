#include "core/nn/kv_cache.h"

#include <tuple>

namespace moe {

std::pair<at::Tensor, at::Tensor> DecodeState::append(int layer, const at::Tensor& k, const at::Tensor& v) {
  auto it = kv.find(layer);
  if (it == kv.end()) {
    // contiguous copies: the caller's tensors may be views of a larger projection
    it = kv.emplace(layer, std::make_pair(k.contiguous(), v.contiguous())).first;
  } else {
    it->second.first = at::cat({it->second.first, k}, 2);
    it->second.second = at::cat({it->second.second, v}, 2);
  }
  return it->second;
}

void DecodeState::attend(int layer, at::Tensor& k, at::Tensor& v, AttentionOptions& opts) {
  const int64_t T = k.size(2);
  std::tie(k, v) = append(layer, k, v);
  opts.queryOffset = past;
  opts.keyMask = keyMask(T);
}

at::Tensor DecodeState::appendSide(int layer, const at::Tensor& t) {
  auto it = side.find(layer);
  if (it == side.end()) return side.emplace(layer, t.contiguous()).first->second;
  return it->second = at::cat({it->second, t}, 2);
}

at::Tensor DecodeState::keyMask(int64_t T) const {
  if (!keyValid.defined()) return at::Tensor();
  // Every query also sees its own key: a padding query would otherwise see no key at all, and the
  // NaN of an empty softmax would reach the real rows through its value. Real queries' own keys are
  // valid anyway.
  const int64_t Tk = keyValid.size(1);
  const auto longs = at::TensorOptions().dtype(at::kLong).device(keyValid.device());
  at::Tensor own = at::arange(Tk - T, Tk, longs).unsqueeze(1).eq(at::arange(Tk, longs).unsqueeze(0));
  return keyValid.unsqueeze(1) | own.unsqueeze(0);
}

void DecodeState::selectRows(const at::Tensor& rows) {
  for (auto& [layer, entry] : kv) {
    entry.first = entry.first.index_select(0, rows);
    entry.second = entry.second.index_select(0, rows);
  }
  for (auto& [layer, t] : side) t = t.index_select(0, rows);
  for (auto& [layer, state] : recurrent)
    for (auto& t : state)
      if (t.defined()) t = t.index_select(0, rows);
  if (keyValid.defined()) keyValid = keyValid.index_select(0, rows);
  if (positions.defined()) positions = positions.index_select(0, rows);
}

}  // namespace moe
