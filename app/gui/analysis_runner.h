#pragma once
// Owns the worker thread of analyses: starts work with queued calls, forwards the worker's
// signals to the GUI thread, and cancels through an atomic flag (never blocks the GUI).
#include <QObject>
#include <QThread>
#include <atomic>

#include "app/gui/analysis_worker.h"

namespace moe {
namespace gui {

class AnalysisRunner : public QObject {
  Q_OBJECT

 public:
  explicit AnalysisRunner(QObject* parent = nullptr);
  ~AnalysisRunner() override;  // cancels and joins the thread

  bool isBusy() const { return busy_; }
  void analyse(const AnalysisRequest& request);
  void open(const QString& storePath);
  void cancel() { cancel_ = true; }

 signals:
  void started();
  void statusChanged(const QString& message);
  void progressed(const moe::gui::AnalysisProgressInfo& info);
  void finished(const moe::gui::AnalysisDataPtr& data);
  void failed(const QString& message, bool cancelled);

 private:
  QThread thread_;
  AnalysisWorker* worker_ = nullptr;
  std::atomic<bool> cancel_{false};
  bool busy_ = false;
};

}  // namespace gui
}  // namespace moe
