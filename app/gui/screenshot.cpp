#include "app/gui/screenshot.h"

#include <QApplication>
#include <QPixmap>
#include <QTimer>
#include <cstdio>
#include <memory>

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
    auto grab = [window, options] {
      const QPixmap image = window->grab();
      const bool ok = !image.isNull() && image.save(options.path, "PNG");
      if (ok) std::printf("wrote %s (%dx%d)\n", qPrintable(options.path), image.width(), image.height());
      else std::fprintf(stderr, "cannot write %s\n", qPrintable(options.path));
      QApplication::exit(ok ? 0 : 1);
    };
    // The picture shows exact errors: wait until the error service has nothing left to score (or
    // gave up), at most kMaxWaitMs, then let the layouts settle and the plots replot.
    constexpr int kMaxWaitMs = 60000;
    LayerErrorService* errors = doc->errorService();
    auto settled = [errors] {
      const auto s = errors->status();
      return s != LayerErrorService::Status::Building && s != LayerErrorService::Status::Scoring;
    };
    auto done = std::make_shared<bool>(false);
    auto finish = [window, grab, done] {
      if (*done) return;
      *done = true;
      QTimer::singleShot(300, window, grab);
    };
    if (settled()) return finish();
    QObject::connect(errors, &LayerErrorService::statusChanged, window, [settled, finish] {
      if (settled()) finish();
    });
    QTimer::singleShot(kMaxWaitMs, window, finish);
  });
  QObject::connect(window, &MainWindow::analysisFailed, window, [](const QString&) { QApplication::exit(1); });
}

}  // namespace gui
}  // namespace moe
