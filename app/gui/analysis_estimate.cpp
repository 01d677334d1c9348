// Core (ATen) headers first: Qt's `slots`/`signals` macros must not be defined while they parse.
#include "core/analysis/estimate.h"

#include <QSettings>
#include <exception>

#include "app/gui/analysis_estimate.h"

namespace moe {
namespace gui {

double estimateAnalysisFlops(const AnalysisRequest& r) {
  // The count is core's (the one `moescope-cli analyze` prints); the dialog only formats it.
  try {
    return moe::analysisWork(r.modelDir.toStdString(), r.sequences, r.length, r.allTokens).flops;
  } catch (const std::exception&) {
    return 0;  // no readable or supported config.json (yet): the dialog says so
  }
}

double measuredGflops() { return QSettings().value("analysis/gflops", 10.0).toDouble(); }

void rememberSpeed(double flops, double seconds) {
  if (flops > 0 && seconds > 0.05) QSettings().setValue("analysis/gflops", flops / seconds / 1e9);
}

}  // namespace gui
}  // namespace moe
