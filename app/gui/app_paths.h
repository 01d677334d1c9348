#pragma once
// Where the explorer finds its bundled demo and keeps its per-user cache of analyses.
#include <QString>

#include "app/gui/analysis_request.h"

namespace moe {
namespace gui {

// resources/demo: $MOESCOPE_DEMO_DIR, beside the executable (installed or build tree), or the
// source tree this binary was built from. Empty when none holds the demo model.
QString demoDir();
QString demoModelDir();
QString demoCalibration();
QString demoEvalText();  // held-out text for perplexity (never part of the calibration)
// A request for the bundled demo with the default calibration size.
AnalysisRequest demoRequest(int sequences = 32, int length = 256);
// <cache>/analyses/<model>-<hash>.h5, keyed by model folder, calibration and options, so that
// reopening the same analysis is instant (the store itself re-checks the fingerprints).
QString cachedStorePath(const AnalysisRequest& request);

}  // namespace gui
}  // namespace moe
