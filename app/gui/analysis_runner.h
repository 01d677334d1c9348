#pragma once
// Owns the worker thread of analyses: starts work with queued calls, forwards the worker's
// signals to the GUI thread, and cancels through the job's own atomic flag (never blocks the GUI).
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "app/gui/analysis_worker.h"

namespace moe {
namespace gui {

class AnalysisRunner : public QObject {
  Q_OBJECT

 public:
  explicit AnalysisRunner(QObject* parent = nullptr);
  ~AnalysisRunner() override;  // cancels and joins the thread

  bool isBusy() const { return busy_; }
  // Every store is checked against its model folder first (core/analysis/freshness.h), in the
  // worker thread: analyse() replaces a stale cached store (saying so), open() refuses one
  // (staleStore) and opens a store whose model folder is gone without the model (no exact errors).
  // `cancel` is the job's own flag (the window's JobGate hands one out); null: a fresh one.
  void analyse(const AnalysisRequest& request, std::shared_ptr<std::atomic<bool>> cancel = nullptr);
  void open(const QString& storePath, std::shared_ptr<std::atomic<bool>> cancel = nullptr);
  // Stops the current job (the analysis between two experts); a later job has a flag of its own.
  void cancel();

 signals:
  void started();
  void statusChanged(const QString& message);
  void progressed(const moe::gui::AnalysisProgressInfo& info);
  // analyse() only: the MoE blocks analysed so far (AnalysisData::pendingLayers > 0), then finished().
  void partial(const moe::gui::AnalysisDataPtr& data);
  void finished(const moe::gui::AnalysisDataPtr& data);
  void failed(const QString& message, bool cancelled);
  // open() refused a store whose model changed since it was analysed (core's freshness check):
  // `reason` names what changed, `again` re-analyses that model with the store's settings.
  void staleStore(const QString& storePath, const QString& reason, const moe::gui::AnalysisRequest& again);

 private:
  QThread thread_;
  void begin(std::shared_ptr<std::atomic<bool>> cancel);
  AnalysisWorker* worker_ = nullptr;
  std::shared_ptr<std::atomic<bool>> cancel_;  // the current job's
  bool busy_ = false;
};

}  // namespace gui
}  // namespace moe
