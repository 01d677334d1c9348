#pragma once
// `moescope --screenshot FILE.png [--layer N]`: opens the demo (or the given path), waits for the
// analysis, shows layer N and writes the window as a PNG, without user input (works with
// QT_QPA_PLATFORM=offscreen).
#include <QString>

namespace moe {
namespace gui {

class MainWindow;

struct ScreenshotOptions {
  QString path;
  int layer = 0;
  int width = 1600, height = 1000;
};

// Arranges for the screenshot to be taken once `window` has loaded its analysis, then quits the
// application with 0 (written) or 1 (failed).
void scheduleScreenshot(MainWindow* window, const ScreenshotOptions& options);

}  // namespace gui
}  // namespace moe
