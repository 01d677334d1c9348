#pragma once
// Decoding and encoding of the quantized formats of core/model/quant.h with ATen, on any device.
// libtorch 1.13 has no float8 dtype, so FP8, E2M1 and E8M0 codes are decoded through exact lookup
// tables (index_select on a 256- or 16-entry float32 table) and encoded by a nearest-value search on
// the same tables, ties to the even code (round to nearest even, as torch's float8 casts do).
#include <ATen/ATen.h>

#include <vector>

#include "core/model/safetensors.h"
#include "core/model/staged_bytes.h"

namespace moe {

// The float32 value of every code. F8_E4M3: E4M3FN (bias 7, no infinities, 0x7f / 0xff NaN, max 448);
// F8_E5M2: IEEE-like (bias 15, 0x7c inf, 0x7d-0x7f NaN, max finite 57344). E2M1: the 16 MXFP4 values
// 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives (codes 8-15). E8M0: 2^(code - 127).
at::Tensor fp8Table(DType fp8);
at::Tensor e2m1Table();
at::Tensor e8m0Table();
double fp8Max(DType fp8);  // largest finite value: 448 or 57344

// Codes (uint8 tensor, any shape) -> float32 values, on the codes' device.
at::Tensor decodeFp8(const at::Tensor& codes, DType fp8);
// float -> nearest code (round to nearest even), values beyond the largest finite one saturated.
at::Tensor encodeFp8(const at::Tensor& values, DType fp8);
at::Tensor encodeE2M1(const at::Tensor& values);  // uint8 codes 0..15, one per value

// The logical tensor of a quantized TensorInfo (info.quantized()), float32 on `device`, read from
// the mapping (the codes travel to the device before they are decoded), or from `staged` copies of
// its stored tensors where there are some.
at::Tensor dequantize(const TensorInfo& info, const at::Device& device, const StagedBytes* staged = nullptr);

// FP8 block dequantization of codes [..., R, C] with scale_inv [..., ceil(R/br), ceil(C/bc)]
// (br = bc = 0: one scale), float32.
at::Tensor dequantizeFp8(const at::Tensor& codes, DType fp8, const at::Tensor& scaleInv, int64_t br, int64_t bc);
// MXFP4 blocks [E, R, G, 16] and scales [E, R, G] -> float32 [E, 32 G, R].
at::Tensor dequantizeMxfp4(const at::Tensor& blocks, const at::Tensor& scales);

// FP8 block quantization with transformers' arithmetic (Fp8Quantize): per block, amax over the
// block's values, scale = max / amax (1 for an all-zero block; computed as transformers does, as
// reciprocal(amax) * max), codes = encode(clamp(w * scale)), scale_inv = 1 / scale in float32. A trailing partial block takes the amax of the values it holds.
struct Fp8Tensor {
  at::Tensor codes;     // uint8, the weight's shape
  at::Tensor scaleInv;  // float32 [..., ceil(R/br), ceil(C/bc)], or [] when br = bc = 0
};
Fp8Tensor quantizeFp8(const at::Tensor& weight, DType fp8, int64_t br, int64_t bc);

// MXFP4 quantization of a logical [E, C, R] tensor (C divisible by 32) following the OCP
// Microscaling spec v1.0: per 32 inputs, shared exponent floor(log2(amax)) - 2 (E2M1's largest
// exponent) clamped to [-127, 127], stored as E8M0 (exponent + 127; 0 for an all-zero group), and
// each value encoded as E2M1 of value / 2^exponent, ties to even, saturated at +-6.
struct Mxfp4Tensor {
  at::Tensor blocks;  // uint8 [E, R, C/32, 16]
  at::Tensor scales;  // uint8 [E, R, C/32]
};
Mxfp4Tensor quantizeMxfp4(const at::Tensor& logical);

}  // namespace moe
