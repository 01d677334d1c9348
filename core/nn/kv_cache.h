#pragma once
// The state of incremental decoding (core/eval/generate.h): where the new tokens of one forward
// call sit, and every attention layer's cached keys and values. A batch of prompts is left-padded
// to one length, so all rows share the cached length and differ only in their padding and their
// rotary positions.
#include <ATen/ATen.h>

#include <map>
#include <utility>
#include <vector>

#include "core/nn/functional.h"  // AttentionOptions

namespace moe {

struct DecodeState {
  int64_t past = 0;      // key positions already cached (the same in every row)
  at::Tensor positions;  // [B, T] int64: rotary position of each new token (0 on padding)
  at::Tensor keyValid;   // [B, past + T] bool: false on left padding; undefined when there is none

  // Layer's keys/values [B, hkv, past + T, d] once this call's [B, hkv, T, d] are appended.
  std::pair<at::Tensor, at::Tensor> append(int layer, const at::Tensor& k, const at::Tensor& v);
  // A cached attention call of `layer`: this call's keys and values [B, hkv, T, d] are appended (k and
  // v become every key and value) and `opts` gets the query offset and the padding mask (keyMask).
  void attend(int layer, at::Tensor& k, at::Tensor& v, AttentionOptions& opts);
  // The same for what an architecture keeps per layer beside them (DeepSeek-V3.2's indexer keys):
  // [B, c, past + T, d] once this call's [B, c, T, d] are appended.
  at::Tensor appendSide(int layer, const at::Tensor& t);
  // The mask of this call's queries over every key [B, T, past + T] (padding only; causality and
  // windows are the attention's own), or undefined when there is no padding.
  at::Tensor keyMask(int64_t T) const;
  // Called by the engine once every layer ran: the new tokens become cached.
  void advance(int64_t T) { past += T; }
  // Keeps only the batch rows `rows` (finished prompts leave a batch).
  void selectRows(const at::Tensor& rows);

  std::map<int, std::pair<at::Tensor, at::Tensor>> kv;
  std::map<int, at::Tensor> side;
  // A recurrent layer's state (batch first), replaced at every call: Qwen3-Next's last convolution
  // inputs and delta-rule state. Empty before the first call.
  std::map<int, std::vector<at::Tensor>> recurrent;
};

}  // namespace moe
