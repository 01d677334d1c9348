#pragma once
// The pieces of Gated DeltaNet linear attention (Yang, Kautz and Hatamizadeh, "Gated Delta Networks:
// Improving Mamba2 with Delta Rule", ICLR 2025) as Qwen3-Next and Qwen3.5 run it in transformers
// (its PyTorch fallbacks causal_conv1d_fn, torch_chunk_gated_delta_rule and RMSNormGated), plus
// the zero-centred RMSNorm of those models. Stateless; the layer wiring lives in
// core/arch/qwen3_next_family.cpp.
#include <ATen/ATen.h>

namespace moe {

// Causal depthwise convolution over time followed by SiLU: x [B, T, C], weight [C, 1, K] (nn.Conv1d
// with groups = C, no bias); output t sees inputs t-K+1 .. t (zeros before the start). Computed in
// the weight's dtype. `past`, when given, holds the K-1 inputs [B, K-1, C] before x (undefined: zeros,
// the start of a sequence) and receives the last K-1 inputs of this call (incremental decoding).
at::Tensor causalDepthwiseConvSilu(const at::Tensor& x, const at::Tensor& weight, at::Tensor* past = nullptr);

// The gated delta rule over a whole sequence from a zero state, per head h and step t:
//   S_t = exp(g_t) S_{t-1} + k_t (beta_t (v_t - exp(g_t) S_{t-1}^T k_t))^T,   o_t = S_t^T q_t
// with q and k L2-normalised (eps 1e-6) and q scaled by dk^-0.5 first. q, k [B, T, H, dk],
// v [B, T, H, dv], g (log decay, <= 0) and beta [B, T, H]; returns [B, T, H, dv] in v's dtype.
// Evaluated in fp32 in chunks of `chunk` steps (the WY / UT-transform form: a triangular solve per
// chunk and one sequential pass over the chunks), as transformers does for a prompt. `state`, when
// given, holds the state [B, H, dk, dv] (fp32) the sequence starts from (undefined: zeros) and
// receives the state after its last step (incremental decoding; chunk 1 is the plain recurrence).
at::Tensor gatedDeltaRule(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& g,
                          const at::Tensor& beta, int64_t chunk = 64, at::Tensor* state = nullptr);

// RMSNorm over the last dim, then gated: weight * normalize(x) * silu(z) (norm before gate), the
// variance and the gate in fp32, the result in x's dtype.
at::Tensor gatedRmsNorm(const at::Tensor& x, const at::Tensor& z, const at::Tensor& weight, double eps);

// Zero-centred RMSNorm (Qwen3NextRMSNorm): normalize(x) * (1 + weight), all in fp32, cast back to
// x's dtype; a weight of zeros is the identity scale.
at::Tensor offsetRmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace moe
