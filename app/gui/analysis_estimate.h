#pragma once
// Rough cost of an analysis from the model's config.json, for the analysis dialog: core's count of the
// operations of the statistics pass, turned into seconds with the speed measured on the last run
// on this machine (remembered in the settings).
#include <QString>

#include "app/gui/analysis_request.h"

namespace moe {
namespace gui {

// Operations of the pass; 0 when config.json cannot be read.
double estimateAnalysisFlops(const AnalysisRequest& request);
double measuredGflops();                     // last measured speed (a conservative default before)
void rememberSpeed(double flops, double seconds);

}  // namespace gui
}  // namespace moe
