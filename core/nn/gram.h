#pragma once
// Gram matrices of many long rows in float64 (the experts' flattened weights: 60-512 rows of
// millions of values), which the analysis turns into weight distances.
//
// Why a kernel of its own: BLAS runs this shape (a few dozen output rows, millions of columns) far
// below its peak, since each value packed is used only S times: 60 experts of 2048 x 1408 reached
// 40 GFLOP/s in float64 against a 89 GFLOP/s peak here, and the whole Gram was 10 % of a bf16
// analysis. The kernel converts a few hundred columns at a time into panels that stay in cache,
// computes only the upper triangle, and splits the columns into a fixed number of segments summed in
// order, so that the result does not depend on the thread count.
#include <ATen/ATen.h>

namespace moe {

// How the products are summed. Float64: every product and sum in float64 (each entry within about
// 1e-13 of |a_i| |a_j|). Float32Blocks, for bf16 rows on a CPU with AVX512-BF16 (elsewhere it is
// Float64): the bf16 products, exact in float32, are summed in float32 lanes of 60 products each,
// the lanes in a float32 tree, then in float64, 3-4 times as fast; each entry is within
// 64 * 2^-24 (3.8e-6) of |a_i| |a_j|.
// A bf16 analysis uses it: its weights were already rounded to bf16.
enum class GramSums { Float64, Float32Blocks };

// gram += rows * rows^T, in float64. rows: [S, N] of any floating dtype on any device; gram: [S, S]
// float64 on the CPU. On the CPU, for bf16, fp32 and fp64 rows with AVX2 and FMA, the kernels
// above; otherwise libtorch's product of float64 column chunks (on the rows' device).
void addGram(const at::Tensor& rows, at::Tensor& gram, GramSums sums = GramSums::Float64);

}  // namespace moe
