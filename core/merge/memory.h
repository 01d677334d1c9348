#pragma once
// Memory preview of a merge plan: exact parameter counts and bytes at the stored dtype of every
// tensor, per decoder layer and in total, before and after, in the plan's export format. Computed
// from the safetensors headers and the planned tensor shapes alone (no tensor data is read), so it
// is instant for any plan.
#include <cstdint>
#include <vector>

#include "core/merge/layout.h"
#include "core/merge/plan.h"

namespace moe {

class Model;

struct LayerMemory {
  int layer = 0;
  int moeIndex = -1;            // -1 for a dense layer
  int64_t experts = 0;          // router experts (E), 0 for a dense layer
  int64_t slotsBefore = 0;      // stored experts before
  int64_t slotsAfter = 0;       // stored experts after (K, or E when unmerged)
  int64_t paramsBefore = 0, bytesBefore = 0;
  int64_t paramsAfter = 0, bytesAfter = 0;
};

struct MemoryPreview {
  ExportFormat format = ExportFormat::Compact;
  std::vector<LayerMemory> layers;          // one per decoder layer
  int64_t otherParams = 0, otherBytes = 0;  // tensors outside the decoder layers (embeddings, final norm, head)
  int64_t paramsBefore = 0, bytesBefore = 0;
  int64_t paramsAfter = 0, bytesAfter = 0;
};

// Uses plan.format; throws like the export would for a plan it cannot write (e.g. a compact plan
// whose blocks have different K). The plan is not checked against a fingerprint here.
// Bytes are those stored (a quantized checkpoint's codes and scales, in `precision`); parameters
// count logical weights (an MXFP4 byte holds two).
MemoryPreview previewMemory(const Model& model, const MergePlan& plan,
                            ExportPrecision precision = ExportPrecision::Source);

}  // namespace moe
