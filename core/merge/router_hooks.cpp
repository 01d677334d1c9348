#include "core/merge/router_hooks.h"

#include "core/merge/router_fit.h"

namespace moe {

bool routerModesNeedCalibration(const MergePlan& plan) {
  for (const auto& l : plan.layers)
    if (!l.isIdentity() && !isPruneStrategy(l.strategy) && isFittedRouter(l.router)) return true;
  return false;
}

CompactRouterHook makeCompactRouterHook(Model& model, const at::Tensor& calibIds, const MergePlan& plan,
                                        const RouterFitOptions& options) {
  return routerModesNeedCalibration(plan) ? makeRouterHook(model, calibIds, plan, options) : CompactRouterHook{};
}

}  // namespace moe
