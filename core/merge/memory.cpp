#include "core/merge/memory.h"

#include "core/engine/model.h"
#include "core/merge/layout.h"

namespace moe {

MemoryPreview previewMemory(const Model& model, const MergePlan& plan) {
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
  for (const auto& name : model.store().names()) {
    const TensorInfo& info = model.store().get(name);
    account(decoderLayerOf(name), info.numel(), static_cast<int64_t>(info.nbytes), false);
  }
  for (const auto& t : plannedCheckpoint(model, plan)) account(t.layer, t.tensor.numel(), t.tensor.bytes(), true);
  return p;
}

}  // namespace moe
