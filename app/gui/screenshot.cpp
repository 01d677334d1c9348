#include "app/gui/screenshot.h"

#include <QApplication>
#include <QPixmap>
#include <QTimer>
#include <cstdio>

#include "app/gui/explorer_document.h"
#include "app/gui/main_window.h"

namespace moe {
namespace gui {

void scheduleScreenshot(MainWindow* window, const ScreenshotOptions& options) {
  window->setQuiet(true);
  window->resize(options.width, options.height);
  QObject::connect(window, &MainWindow::analysisLoaded, window, [window, options] {
    ExplorerDocument* doc = window->document();
    doc->setCurrentLayer(std::clamp(options.layer, 0, std::max(0, doc->numMoeLayers() - 1)));
    // Let the layouts settle and the plots replot before grabbing.
    QTimer::singleShot(300, window, [window, options] {
      const QPixmap image = window->grab();
      const bool ok = !image.isNull() && image.save(options.path, "PNG");
      if (ok) std::printf("wrote %s (%dx%d)\n", qPrintable(options.path), image.width(), image.height());
      else std::fprintf(stderr, "cannot write %s\n", qPrintable(options.path));
      QApplication::exit(ok ? 0 : 1);
    });
  });
  QObject::connect(window, &MainWindow::analysisFailed, window, [](const QString&) { QApplication::exit(1); });
}

}  // namespace gui
}  // namespace moe
