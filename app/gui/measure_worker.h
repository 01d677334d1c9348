#pragma once
// Measures perplexity and KL(original || merged) of a plan off the GUI thread: three forward passes
// over the held-out tokens (original, tied, compact), each cancellable between decoder layers.
// Progress and the result travel back through queued signals; torch stays in the .cpp.
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "app/gui/measure_request.h"

namespace moe {
namespace gui {

class MeasureWorker : public QObject {
  Q_OBJECT

 public:
  void run(const moe::gui::MeasureRequest& request, std::shared_ptr<std::atomic<bool>> cancel);

 signals:
  void progressed(int done, int total);  // decoder layers run, over the three passes
  void finished(const moe::gui::MeasureResult& result);
  void failed(const QString& message, bool cancelled);
};

// Owns the measuring thread; start() and cancel() never wait.
class MeasureRunner : public QObject {
  Q_OBJECT

 public:
  explicit MeasureRunner(QObject* parent = nullptr);
  ~MeasureRunner() override;
  bool isBusy() const { return busy_; }
  void start(const MeasureRequest& request);
  void cancel();

 signals:
  void progressed(int done, int total);
  void finished(const moe::gui::MeasureResult& result);
  void failed(const QString& message, bool cancelled);

 private:
  QThread thread_;
  MeasureWorker* worker_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  bool busy_ = false;
};

}  // namespace gui
}  // namespace moe
