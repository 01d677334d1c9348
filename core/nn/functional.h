#pragma once
// Small stateless building blocks shared by every architecture, written to follow the
// transformers implementations operation by operation (norms in fp32, HF's rotate_half, ...).
#include <ATen/ATen.h>

#include "core/model/config.h"
#include "core/nn/runtime.h"

namespace moe {

// x / sqrt(mean(x^2) + eps) over the last dimension, in fp32 (returned in fp32): the normalisation
// every RMSNorm variant shares; they differ in where the weight comes in and where they round.
at::Tensor rmsNormalized(const at::Tensor& x, double eps);
// RMSNorm as in transformers' Llama: variance in fp32, then weight * normalized cast back first.
at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);

// SwiGLU MLP: down(silu(gate(x)) * up(x)); weights in nn.Linear layout [out, in].
at::Tensor swigluMlp(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& up, const at::Tensor& down);

// Rotary tables for positions 0..T-1 in transformers' layout: cos/sin [T, dim] with the two
// halves duplicated, already multiplied by the rope type's attention factor (YaRN's mscale).
struct RopeTable {
  at::Tensor cos, sin;
  double attentionFactor = 1.0;
};
RopeTable makeRopeTable(const RopeConfig& rope, int64_t dim, int64_t maxPositionEmbeddings, int64_t T,
                        const Runtime& rt);

// The table's rows at `positions` [B, T] (incremental decoding, left-padded batches): cos/sin
// [B, 1, T, dim], which applyRope uses as they are.
RopeTable ropeRows(const RopeTable& table, const at::Tensor& positions);

// x [B, heads, T, dim]: x * cos + rotate_half(x) * sin (the table's first T rows, or rows from ropeRows).
at::Tensor applyRope(const at::Tensor& x, const RopeTable& table);
// DeepSeek's interleaved variant: pairs (0,1), (2,3)... are first de-interleaved into halves.
at::Tensor applyRopeInterleaved(const at::Tensor& x, const RopeTable& table);

// Scaled-dot-product attention with a causal mask, optional sliding window (keys with
// q - k < window) or chunks (keys with k / chunk == q / chunk), and optional per-head sink logits
// (gpt-oss). q [B,h,Tq,d], k/v [B,hkv,Tk,*] (grouped-query heads are repeated). Returns [B, Tq, h * dv].
// Queries sit at key indices queryOffset .. queryOffset + Tq - 1 (a KV cache holds the earlier keys).
struct AttentionOptions {
  double scaling = 1.0;
  int64_t slidingWindow = 0;  // 0: full causal attention
  int64_t chunkSize = 0;      // Llama-4's chunked attention: keys in the query's chunk of chunkSize positions only
  at::Tensor sinks;           // [h] or undefined
  at::Tensor keyMask;         // [B, Tq, Tk] bool, true = key allowed (DeepSeek-V3.2's top-k keys, padding), or undefined
  int64_t queryOffset = 0;    // Tk - Tq with a KV cache, 0 otherwise
};
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionOptions& opts);

// x @ w.T (+ b) without the autograd-aware nn.Linear module. On the CPU, where libtorch's bf16 / fp16
// GEMM is many times slower than fp32 (without AVX-512; measured once per process): bf16 products of
// at most 16 rows go through small_rows_linear.h (one pass over the weights, as decoding needs), and
// bf16 / fp16 products of 4 rows or more otherwise are multiplied in fp32 and rounded back.
at::Tensor dense(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = at::Tensor());
// Whether CPU products of this low-precision type (bf16 / fp16) of 4 rows or more run in fp32 on
// this machine, as dense() and attention do (measured once per process).
bool lowPrecisionThroughFloat(at::ScalarType type);


}  // namespace moe
