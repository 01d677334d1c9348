// Core (ATen) headers first: Qt's `slots`/`signals` macros must not be defined while they parse.
#include "core/engine/model.h"
#include "core/error.h"
#include "core/merge/neuron_alignment.h"

#include "app/gui/plan_alignment.h"

namespace moe {
namespace gui {

bool planAsksForAlignment(const moe::MergePlan& plan) {
  for (const moe::LayerPlan& lp : plan.layers)
    if (lp.needsAlignment()) return true;
  return false;
}

void alignPlanOnCalibration(moe::MergePlan& plan, moe::Model& model, const std::vector<int64_t>& calibTokens,
                            const std::vector<int64_t>& calibShape, const std::function<void(int, int)>& progress,
                            const std::atomic<bool>* cancel) {
  if (!moe::planNeedsNeuronAlignment(plan)) return;
  if (calibShape.size() != 2 || calibTokens.empty() ||
      static_cast<int64_t>(calibTokens.size()) != calibShape[0] * calibShape[1])
    throw moe::Error(moe::ErrorKind::InvalidArgument,
                     "neuron alignment (align_neurons) needs the analysis' calibration tokens");
  const at::Tensor ids = at::tensor(calibTokens, at::kLong).reshape({calibShape[0], calibShape[1]});
  moe::alignPlanNeurons(plan, model, ids, {}, progress, cancel);
}

}  // namespace gui
}  // namespace moe
