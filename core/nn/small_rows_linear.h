#pragma once
// y = x w^T (+ b) for bf16 activations with few rows (token-by-token decoding: one row per prompt,
// or the few tokens routed to one expert) against bf16 weights in nn.Linear layout [out, in].
//
// Why it exists: such products read each weight once and are bound by memory bandwidth, yet
// libtorch's bf16 CPU GEMM runs many times slower than that on CPUs without native bf16 (AVX2), and
// going through fp32 costs a full weight conversion per call. This kernel widens the bf16 weights
// in registers (bf16 is the top half of an fp32) and accumulates in fp32, one pass over the weights.
#include <ATen/ATen.h>

namespace moe {

// Whether smallRowsLinear is used for x [..., in] and w [out, in]: both bf16 on the CPU, w
// contiguous, at most kSmallRowsMax rows, a CPU with AVX2 and FMA, and measured (once per process)
// faster than libtorch's own bf16 product on this machine.
constexpr int64_t kSmallRowsMax = 32;
bool smallRowsLinearApplies(const at::Tensor& x, const at::Tensor& w);

// The product itself, without the checks of smallRowsLinearApplies beyond shapes and types (tests
// call it directly). Accumulates in fp32, adds the bias in fp32 and rounds once to bf16.
at::Tensor smallRowsLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {});

// t as fp32, exactly (bf16 is the upper half of an fp32). Contiguous bf16 CPU tensors are widened in
// parallel with AVX2 where the CPU has it: libtorch 1.13's own conversion took 8.0 ms for a 2048 x 2048
// weight against 2.3 ms here, and products through fp32 (prefill, analysis) convert every weight they
// use. Anything else goes through Tensor::to.
at::Tensor toFloat(const at::Tensor& t);

}  // namespace moe
