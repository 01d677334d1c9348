#pragma once
// The explorer's plan as the merge plan the CLI and the exporter read (core/merge/plan.h), and
// back. Saved files carry the explorer state under "moescope_explorer" so that reopening one
// restores linkage, representation and allocation too.
#include <string>

#include "app/gui/analysis_data.h"
#include "app/gui/plan_derivation.h"
#include "core/merge/plan.h"

namespace moe {
namespace gui {

moe::MergePlan toMergePlan(const AnalysisData& data, const PlanState& state, const DerivedPlan& derived);
void savePlanFile(const std::string& path, const AnalysisData& data, const PlanState& state, const DerivedPlan& derived);
// Reads a plan file written by MoEScope (GUI or CLI) and checks it belongs to this analysis'
// model (throws Stale otherwise). Plans without explorer state become per-block K overrides.
PlanState loadPlanFile(const std::string& path, const AnalysisData& data, const PlanState& current);

}  // namespace gui
}  // namespace moe
