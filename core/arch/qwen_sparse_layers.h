#pragma once
// Which decoder layers of a Qwen-MoE model are sparse: not listed in mlp_only_layers, and every
// decoder_sparse_step-th layer (transformers' rule, shared by qwen2_moe and qwen3_moe).
#include <algorithm>

#include "core/model/config.h"

namespace moe {

inline bool qwenIsSparseLayer(const ModelConfig& c, int layer) {
  const auto mlpOnly = c.getIntList("mlp_only_layers");
  const int64_t step = c.getInt("decoder_sparse_step", 1);
  if (std::find(mlpOnly.begin(), mlpOnly.end(), layer) != mlpOnly.end()) return false;
  return c.numExperts > 0 && step > 0 && (layer + 1) % step == 0;
}

// Qwen's sliding window applies from layer max_window_layers on, when use_sliding_window is set.
inline int64_t qwenSlidingWindow(const ModelConfig& c, int layer) {
  if (!c.getBool("use_sliding_window", false)) return 0;
  return layer >= c.getInt("max_window_layers", 0) ? c.getInt("sliding_window", 0) : 0;
}

}  // namespace moe
