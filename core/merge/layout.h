#pragma once
// The on-disk names and layouts of one MoE block's router and routed-expert tensors (each
// architecture's Architecture::moeDiskNames), and the conversion of a MoeBlock back into them (the inverse of each
// architecture's moeBlock()): what export re-emits and what the memory preview counts.
//   per-expert (Mixtral, Qwen2/3-MoE, OLMoE, DeepSeek-V3): <experts>.S.<gate|up|down>.weight
//   packed (GraniteMoE): input_linear.weight [S, 2I, H] (gate rows, then up), output_linear.weight [S, H, I]
//   fused (gpt-oss): experts.gate_up_proj [S, H, 2I] (gate even / up odd columns) + bias [S, 2I],
//                    experts.down_proj [S, I, H] + bias [S, H]
// Router: weight [R, H], plus gpt-oss's bias [R] and DeepSeek's e_score_correction_bias [R].
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "core/arch/architecture.h"
#include "core/model/safetensors.h"
#include "core/nn/moe_block.h"

namespace moe {

struct PlannedTensor {
  std::string name;
  DType dtype = DType::BF16;
  std::vector<int64_t> shape;
  int64_t numel() const;
  int64_t bytes() const { return numel() * static_cast<int64_t>(dtypeSize(dtype)); }
};

class MoeDiskLayout {
 public:
  // The architecture's moeDiskNames(layer), checked against its tensor table (Unsupported when a
  // name is missing there or the kind disagrees with expertLayout()).
  static MoeDiskLayout of(const Architecture& arch, int layer);

  ExpertLayout kind() const { return n_.kind; }
  std::vector<std::string> routerNames() const;
  std::vector<std::string> expertNames(int64_t slots) const;

  // Tensors for `rows` router rows / `slots` stored experts, with the dtype and the other dims of
  // their counterparts in the source store.
  std::vector<PlannedTensor> plannedRouter(const TensorStore& source, int64_t rows) const;
  std::vector<PlannedTensor> plannedExperts(const TensorStore& source, int64_t slots) const;

  // The block's tensors in this layout (fp32 or whatever the block holds), keyed by name.
  std::map<std::string, at::Tensor> encodeRouter(const MoeBlock& block) const;
  std::map<std::string, at::Tensor> encodeExperts(const MoeBlock& block) const;

 private:
  MoeDiskNames n_;  // the architecture's moeDiskNames()
};

class Model;
struct MergePlan;

// One tensor of a planned export: copied from the source, or re-emitted from a merged block.
struct OutputTensor {
  PlannedTensor tensor;
  const TensorInfo* source = nullptr;  // copied byte for byte; nullptr: re-emitted
  int layer = -1;                      // decoder layer (-1: outside the decoder layers)
  int moeIndex = -1;                   // the merged MoE block that re-emits it
};

// Every tensor an export of `plan` (in plan.format) writes, ordered embeddings, layer by layer,
// then the rest; computed from the tensor headers only (no tensor data is read). Throws
// InvalidArgument when a compact plan gives blocks different K.
std::vector<OutputTensor> plannedCheckpoint(const Model& source, const MergePlan& plan);
// The decoder layer of "model.layers.N...." names, -1 for others.
int decoderLayerOf(const std::string& tensorName);

// A tensor as safetensors bytes of `dtype` (bf16 / f16 conversion rounds to nearest even).
TensorBlob tensorToBlob(const std::string& name, const at::Tensor& t, DType dtype);

}  // namespace moe
