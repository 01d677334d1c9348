#pragma once
// Quantized checkpoints: which stored tensors make up each logical tensor, and their validation.
// The architectures' tensor tables name logical (dequantized) tensors and shapes; this file maps
// them onto what a quantized checkpoint stores, checked once at open. Two published formats:
//
// FP8 (config.json quantization_config {"quant_method": "fp8", "weight_block_size": [br, bc]},
//   DeepSeek-V3, Qwen3-FP8, ...): a weight W [..., R, C] is stored as F8_E4M3 (or F8_E5M2) codes
//   under its own name, beside "<module>.weight_scale_inv" (F32 or BF16; "<name>_scale_inv" for a
//   name not ending in ".weight") of shape [..., ceil(R/br), ceil(C/bc)]:
//     W[r, c] = decode(code[r, c]) * scale_inv[r / br, c / bc]
//   A trailing partial block uses its block's scale. Without weight_block_size (null or absent) the
//   scale is one value for the whole tensor. Modules in modules_to_not_convert (alias
//   ignored_layers) are stored unquantized, as are all tensors without a scale (embeddings, norms,
//   routers).
// MXFP4 (quant_method "mxfp4", gpt-oss): a fused expert tensor "<n>" of logical shape [E, C, R]
//   (x @ W orientation: C inputs, R outputs) is stored as "<n>_blocks" U8 [E, R, C/32, 16] and
//   "<n>_scales" U8 [E, R, C/32]. Each byte holds two E2M1 codes, the low nibble first; every 32
//   consecutive inputs share the scale 2^(byte - 127) (E8M0):
//     W[e, 32 g + 2 k + h, r] = e2m1(nibble h of blocks[e, r, g, k]) * 2^(scales[e, r, g] - 127)
//   which is transformers' convert_moe_packed_tensors followed by its transpose(1, 2).
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/model/safetensors.h"

namespace moe {

// "<n>" -> "<n>_scale_inv" ("<m>.weight" -> "<m>.weight_scale_inv", transformers' convention).
std::string fp8ScaleName(const std::string& weightName);
std::string mxfp4BlocksName(const std::string& name);  // "<n>_blocks"
std::string mxfp4ScalesName(const std::string& name);  // "<n>_scales"

// The FP8 scale grid of a weight: its leading dims, then ceil(R / br), ceil(C / bc). br = bc = 0:
// one scale for the whole tensor, stored as a scalar ([]).
std::vector<int64_t> fp8ScaleShape(const std::vector<int64_t>& weightShape, int64_t blockRows, int64_t blockCols);

// MXFP4 shapes: logical [E, C, R] <-> blocks [E, R, C/32, 16] and scales [E, R, C/32].
constexpr int64_t kMxfp4Block = 32;
std::vector<int64_t> mxfp4BlocksShape(const std::vector<int64_t>& logical);
std::vector<int64_t> mxfp4ScalesShape(const std::vector<int64_t>& logical);
std::vector<int64_t> mxfp4LogicalShape(const std::vector<int64_t>& blocks);

// Checks the quantized storage of `store` against `quant` (config.json's quantization_config, read
// from `configSource`) and registers each quantized tensor under its logical name (see
// TensorStore::addLogical). Throws, naming the tensors and the expected and actual shapes, for: an
// F8 or U8 tensor in a checkpoint without the matching quantization_config, an FP8 weight without its
// scale, a scale of the wrong shape or dtype, a scale without its weight, an F8 tensor in a module of
// modules_to_not_convert, MXFP4 blocks without scales (or the reverse), and blocks and scales whose
// shapes disagree.
void applyQuantization(TensorStore& store, const QuantConfig& quant, const std::string& configSource);

}  // namespace moe
