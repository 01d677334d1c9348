#pragma once
// Random checkpoints of any supported architecture and size, in the real on-disk layout
// (config.json + sharded safetensors + index), for benchmarks and tests at sizes we cannot ship.
#include <cstdint>
#include <functional>
#include <string>

namespace moe {

struct SynthSpec {
  std::string arch;  // config.json model_type; empty: the first registered architecture
  int64_t layers = 2;
  int64_t hidden = 256;
  int64_t experts = 8;
  int64_t topK = 2;
  int64_t expertIntermediate = 512;
  int64_t denseIntermediate = 0;   // dense layers / Mixtral's intermediate_size; 0: 4 x hidden
  int64_t sharedIntermediate = 0;  // shared expert width where the architecture has one; 0: none
  int64_t heads = 8;
  int64_t kvHeads = 0;  // 0: the architecture's default (a quarter of the heads, all of them for MLA)
  int64_t vocab = 1024;
  uint64_t seed = 0;
  int64_t shardBytes = 2ll << 30;  // split into shards of at most this many bytes
  // Quantized storage like the published checkpoints (core/model/quant.h): "" BF16; "fp8" every
  // weight of rank >= 2 except embeddings, the output head, routers, gates and biases as F8_E4M3
  // with block scales (fp8Block); "mxfp4" the fused input-major expert tensors (gpt-oss).
  std::string quant;
  int64_t fp8BlockRows = 128, fp8BlockCols = 128;
};

// Writes config.json, generation_config.json and the safetensors files into `outDir` (created;
// must not exist or be empty). Progress is reported as (bytes written, total bytes).
void writeSyntheticModel(const SynthSpec& spec, const std::string& outDir,
                         const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace moe
