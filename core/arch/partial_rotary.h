#pragma once
// Partial rotary embedding (GLM-4.5, MiniMax-M2, Qwen3-Next): rope on the first
// int(head_dim * partial_rotary_factor) dims of each head, as transformers truncates it. transformers 5
// keeps the factor in rope_parameters, transformers 4 at the top level; a null entry counts as absent.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/model/config.h"

namespace moe {

// The rotary dimension; Config error unless the factor lies in (0, 1] and gives a positive even width.
inline int64_t partialRotaryDim(const ModelConfig& c, int64_t headDim, double defaultFactor) {
  const double factor = c.rope.has("partial_rotary_factor") ? c.rope.getNumber("partial_rotary_factor", -1.0)
                                                            : c.getNumber("partial_rotary_factor", defaultFactor);
  if (!(factor > 0.0 && factor <= 1.0))
    throw Error(ErrorKind::Config, c.source() + ": partial_rotary_factor must lie in (0, 1]");
  const auto rotary = static_cast<int64_t>(static_cast<double>(headDim) * factor);
  if (rotary <= 0 || rotary % 2 != 0)
    throw Error(ErrorKind::Config, c.source() + ": head_dim (" + std::to_string(headDim) + ") x partial_rotary_factor (" +
                                       std::to_string(factor) + ") must give a positive even rotary dimension");
  return rotary;
}

}  // namespace moe
