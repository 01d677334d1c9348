#include "core/merge/memory.h"

#include "core/engine/model.h"
#include "core/merge/layout.h"

namespace moe {

MemoryPreview previewMemory(const Model& model, const MergePlan& plan, ExportPrecision precision) {
  plan.validate();
  MemoryPreview p;
  p.format = plan.format;
  const Architecture& arch = model.arch();
  p.layers.resize(static_cast<size_t>(model.numLayers()));
  for (int l = 0; l < model.numLayers(); ++l) p.layers[static_cast<size_t>(l)].layer = l;
  for (size_t j = 0; j < model.moeLayers().size(); ++j) {
    LayerMemory& m = p.layers[static_cast<size_t>(model.moeLayers()[j])];
    m.moeIndex = static_cast<int>(j);
    m.experts = arch.numExperts();
    m.slotsBefore = arch.numSlots(m.layer);
    const LayerPlan* lp = plan.find(static_cast<int>(j));
    m.slotsAfter = lp && !lp->isIdentity() ? lp->numGroups : m.slotsBefore;
  }
  auto account = [&](int layer, int64_t params, int64_t bytes, bool after) {
    const bool inLayer = layer >= 0 && layer < model.numLayers();
    if (after) {
      p.paramsAfter += params;
      p.bytesAfter += bytes;
      if (inLayer) {
        p.layers[static_cast<size_t>(layer)].paramsAfter += params;
        p.layers[static_cast<size_t>(layer)].bytesAfter += bytes;
      }
    } else {
      p.paramsBefore += params;
      p.bytesBefore += bytes;
      if (inLayer) {
        p.layers[static_cast<size_t>(layer)].paramsBefore += params;
        p.layers[static_cast<size_t>(layer)].bytesBefore += bytes;
      } else {
        p.otherParams += params;
        p.otherBytes += bytes;
      }
    }
  };
  // Bytes as stored (a quantized tensor's codes and scales), parameters as the logical tensors hold them.
  for (const auto& name : model.store().names()) {
    const PlannedTensor t = storedTensor(model.store(), name);
    account(model.arch().decoderLayerOf(model.store().logicalNameOf(name)), t.params(), t.bytes(), false);
  }
  for (const auto& t : plannedCheckpoint(model, plan, precision)) account(t.layer, t.tensor.params(), t.tensor.bytes(), true);
  return p;
}

}  // namespace moe
