#pragma once
// Runs the Try-it panel's generation off the GUI thread: the original and the plan's variants
// decode the same prompts in turn, every new token travelling back at once through a queued signal
// (with its cell's text so far), the per-variant agreement at the end. Cancellable between layers
// and steps through the job's own flag; torch stays in the .cpp.
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "app/gui/generate_request.h"

namespace moe {
namespace gui {

class GenerateWorker : public QObject {
  Q_OBJECT

 public:
  void run(const moe::gui::GenerateRequest& request, std::shared_ptr<std::atomic<bool>> cancel);

 signals:
  void started(const QStringList& variants, int prompts);  // model and tokenizer loaded, request valid
  void cellUpdated(int variant, int prompt, const moe::gui::GeneratedCell& cell);
  void progressed(int done, int total);  // decoding steps over all variants
  void finished(const moe::gui::GenerateResult& result);
  void failed(const QString& message, bool cancelled);
};

// Owns the generation thread; start() and cancel() never wait.
class GenerateRunner : public QObject {
  Q_OBJECT

 public:
  explicit GenerateRunner(QObject* parent = nullptr);
  ~GenerateRunner() override;
  bool isBusy() const { return busy_; }
  // `cancel`: the job gate's flag for this job (a fresh one when null).
  void start(const GenerateRequest& request, std::shared_ptr<std::atomic<bool>> cancel = nullptr);
  void cancel();

 signals:
  void started(const QStringList& variants, int prompts);
  void cellUpdated(int variant, int prompt, const moe::gui::GeneratedCell& cell);
  void progressed(int done, int total);
  void finished(const moe::gui::GenerateResult& result);
  void failed(const QString& message, bool cancelled);

 private:
  QThread thread_;
  GenerateWorker* worker_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  bool busy_ = false;
};

}  // namespace gui
}  // namespace moe
