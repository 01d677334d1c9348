#pragma once
// Writes a merged checkpoint off the GUI thread (core/merge/export.h); progress and the result
// travel back through queued signals, cancellation through the runner's atomic flag.
#include <QObject>
#include <QThread>
#include <atomic>

#include "app/gui/export_request.h"

namespace moe {
namespace gui {

class ExportWorker : public QObject {
  Q_OBJECT

 public:
  explicit ExportWorker(const std::atomic<bool>* cancel) : cancel_(cancel) {}
  void run(const moe::gui::ExportRequest& request);

 signals:
  void progressed(qint64 done, qint64 total);
  void fittingRouters(int blocksDone, int blocksTotal);  // before writing, for fitted compact routers
  void finished(const moe::gui::ExportSummary& summary);
  void failed(const QString& message, bool cancelled);

 private:
  const std::atomic<bool>* cancel_;
};

// Owns the export thread; the GUI calls start() and cancel(), never waits.
class ExportRunner : public QObject {
  Q_OBJECT

 public:
  explicit ExportRunner(QObject* parent = nullptr);
  ~ExportRunner() override;
  bool isBusy() const { return busy_; }
  void start(const ExportRequest& request);
  void cancel() { cancel_ = true; }

 signals:
  void progressed(qint64 done, qint64 total);
  void fittingRouters(int blocksDone, int blocksTotal);
  void finished(const moe::gui::ExportSummary& summary);
  void failed(const QString& message, bool cancelled);

 private:
  QThread thread_;
  ExportWorker* worker_;
  std::atomic<bool> cancel_{false};
  bool busy_ = false;
};

}  // namespace gui
}  // namespace moe
