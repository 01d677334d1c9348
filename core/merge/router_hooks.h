#pragma once
// The compact routers a plan asks for: the averaged ones are built by mergeCompact itself; the
// fitted ones need calibration inputs, gathered here by forward passes.
#include <ATen/ATen.h>

#include "core/engine/model.h"
#include "core/merge/merge.h"
#include "core/merge/plan.h"
#include "core/merge/router_fit.h"

namespace moe {

// True when some merged block of the plan uses a router mode fitted on calibration data.
bool routerModesNeedCalibration(const MergePlan& plan);

// The hook for planOverride / exportMergedModel (empty when no block needs fitting).
CompactRouterHook makeCompactRouterHook(Model& model, const at::Tensor& calibIds, const MergePlan& plan,
                                        const RouterFitOptions& options = {});

}  // namespace moe
