#pragma once
// The on-disk names and layouts of one MoE block's router and routed-expert tensors (each
// architecture's Architecture::moeDiskNames), and the conversion of a MoeBlock back into them (the inverse of each
// architecture's moeBlock()): what export re-emits and what the memory preview counts.
//   per-expert (Mixtral, Qwen2/3-MoE, OLMoE, DeepSeek-V3): <experts>.S.<gate|up|down>.weight
//   packed (GraniteMoE): input_linear.weight [S, 2I, H] (gate rows, then up), output_linear.weight [S, H, I]
//   fused (gpt-oss): experts.gate_up_proj [S, H, 2I] (gate even / up odd columns) + bias [S, 2I],
//                    experts.down_proj [S, I, H] + bias [S, H]; other fused families concatenate gate
//                    and up, store in nn.Linear orientation or have no biases (MoeDiskNames' flags)
// Router: weight [R, H], plus gpt-oss's bias [R] and DeepSeek's e_score_correction_bias [R] ([1, R] in ERNIE-4.5).
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "core/arch/architecture.h"
#include "core/model/safetensors.h"
#include "core/nn/moe_block.h"

namespace moe {

// The precision an export writes: the source's own (a quantized checkpoint stays quantized, merged
// experts re-quantized in its scheme), or BF16 throughout (quantized tensors dequantized).
enum class ExportPrecision { Source, BF16 };

// A stored tensor of a quantized checkpoint is either a whole tensor or one part of a logical tensor's
// encoding (core/model/quant.h): the codes (FP8 values, MXFP4 blocks) or the scales.
enum class StoredPart { Whole, Codes, Scales };

struct PlannedTensor {
  std::string name;
  DType dtype = DType::BF16;
  std::vector<int64_t> shape;
  StoredPart part = StoredPart::Whole;
  std::string logical{};                // Codes / Scales: the logical tensor they encode
  std::vector<int64_t> logicalShape{};  // and its shape
  const TensorInfo* scheme = nullptr;  // Codes / Scales: the source tensor whose encoding they repeat
  int64_t numel() const;
  int64_t bytes() const { return numel() * static_cast<int64_t>(dtypeSize(dtype)); }
  // Model parameters it stores: its numel, a logical tensor's numel for codes, none for scales.
  int64_t params() const;
};

// The stored tensors that hold logical tensor `name` of `shape` written like the source tensor `like`
// (same scheme, block and dtypes): its codes and scales when `like` is quantized and precision is
// Source; else one whole tensor, of like's dtype (BF16 for a quantized `like`).
std::vector<PlannedTensor> plannedStorage(const std::string& name, const std::vector<int64_t>& shape,
                                          const TensorInfo& like, ExportPrecision precision);
// A stored tensor of `store` as it is: whole, or the part of the quantized logical tensor it belongs to.
PlannedTensor storedTensor(const TensorStore& store, const std::string& storedName);

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
  // Quantized source tensors become their codes and scales (plannedStorage).
  std::vector<PlannedTensor> plannedRouter(const TensorStore& source, int64_t rows,
                                           ExportPrecision precision = ExportPrecision::Source) const;
  std::vector<PlannedTensor> plannedExperts(const TensorStore& source, int64_t slots,
                                            ExportPrecision precision = ExportPrecision::Source) const;
  // A per-expert tensor name renamed to slot `to` ("<experts>3.w1.weight" -> "<experts>5.w1.weight");
  // other layouts hold every slot in one tensor and return the name unchanged.
  std::string slotName(const std::string& name, int64_t to) const;
  // The slot of a per-expert tensor name, -1 for other layouts.
  int64_t slotOf(const std::string& name) const;

  // The block's tensors in this layout (fp32 or whatever the block holds), keyed by name.
  std::map<std::string, at::Tensor> encodeRouter(const MoeBlock& block) const;
  std::map<std::string, at::Tensor> encodeExperts(const MoeBlock& block) const;
  // The inverse of encodeExperts: block's expert weights and biases from tensors in this layout
  // (block.numSlots() slots).
  void decodeExperts(const std::map<std::string, at::Tensor>& tensors, MoeBlock& block) const;
  // Rounds the block's router tensors through the dtypes the source stores them in.
  void roundRouterToStored(MoeBlock& block, const TensorStore& source) const;

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
  const TensorInfo* dequantize = nullptr;  // ExportPrecision::BF16: a quantized source tensor, dequantized
};

// Every tensor an export of `plan` (in plan.format) writes, ordered embeddings, layer by layer,
// then the rest; computed from the tensor headers only (no tensor data is read). Throws
// InvalidArgument when a compact plan gives blocks different K.
std::vector<OutputTensor> plannedCheckpoint(const Model& source, const MergePlan& plan,
                                           ExportPrecision precision = ExportPrecision::Source);
// Whether an export of `plan` leaves out the source's multi-token-prediction block: it does when the
// source has one and any MoE block is merged, since the MTP block's experts would disagree with the
// exported config.json (the config is rewritten by Architecture::dropMtpFromConfig, the card says so).
bool exportDropsMtp(const Model& source, const MergePlan& plan);

// A tensor as safetensors bytes of `dtype` (bf16 / f16 conversion rounds to nearest even).
TensorBlob tensorToBlob(const std::string& name, const at::Tensor& t, DType dtype);

}  // namespace moe
