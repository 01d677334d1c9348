#include "app/gui/measure_request.h"

#include <QSettings>

#include "app/gui/app_paths.h"

namespace moe {
namespace gui {

MeasureRequest configuredMeasureRequest() {
  QSettings s;
  MeasureRequest r;
  r.evalText = s.value("eval/text").toString();
  if (r.evalText.isEmpty()) r.evalText = demoEvalText();
  r.sequences = s.value("eval/sequences", 8).toInt();
  r.length = s.value("eval/length", 256).toInt();
  r.genPrompts = s.value("eval/gen_prompts", 8).toInt();
  return r;
}

}  // namespace gui
}  // namespace moe
