#pragma once
// Writes a merged checkpoint off the GUI thread (core/merge/export.h); progress and the result
// travel back through queued signals, cancellation through each export's own atomic flag (checked
// by core before every tensor, so Cancel takes effect within one tensor even in a single shard).
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "app/gui/export_request.h"

namespace moe {
namespace gui {

class ExportWorker : public QObject {
  Q_OBJECT

 public:
  void run(const moe::gui::ExportRequest& request, const std::shared_ptr<std::atomic<bool>>& cancel);

 signals:
  void progressed(qint64 done, qint64 total);
  void fittingRouters(int blocksDone, int blocksTotal);  // before writing, for fitted compact routers
  void finished(const moe::gui::ExportSummary& summary);
  void failed(const QString& message, bool cancelled);
};

// Owns the export thread; the GUI calls start() and cancel(), never waits.
class ExportRunner : public QObject {
  Q_OBJECT

 public:
  explicit ExportRunner(QObject* parent = nullptr);
  ~ExportRunner() override;
  bool isBusy() const { return busy_; }
  // `cancel` is the export's own flag (the window's JobGate hands one out); null: a fresh one.
  void start(const ExportRequest& request, std::shared_ptr<std::atomic<bool>> cancel = nullptr);
  void cancel();  // the current export only; it removes its partial folder

 signals:
  void progressed(qint64 done, qint64 total);
  void fittingRouters(int blocksDone, int blocksTotal);
  void finished(const moe::gui::ExportSummary& summary);
  void failed(const QString& message, bool cancelled);

 private:
  QThread thread_;
  ExportWorker* worker_;
  std::shared_ptr<std::atomic<bool>> cancel_;  // the current export's
  bool busy_ = false;
};

}  // namespace gui
}  // namespace moe
