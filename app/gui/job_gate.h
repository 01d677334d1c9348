#pragma once
// The one gate every long job of the window goes through (an analysis, opening a store, an
// export): they share the progress panel and its Cancel button, and an export of the open analysis
// must not race an analysis that replaces it, so one runs at a time. Each started job gets its own
// cancel flag: Cancel reaches the job that holds the gate and no other, and a flag set for an
// earlier job can never stop a later one. A refused start says which job is running.
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>

namespace moe {
namespace gui {

using CancelFlag = std::shared_ptr<std::atomic<bool>>;

class JobGate : public QObject {
  Q_OBJECT

 public:
  enum class Job { None, Analysis, OpenAnalysis, Export, Generate };

  explicit JobGate(QObject* parent = nullptr) : QObject(parent) {}

  // Takes the gate for `job`; `what` names it for a later refusal ("exporting to X"). Returns the
  // job's cancel flag, or null (with `why`, when given, set and refused() emitted) while another
  // job holds the gate.
  CancelFlag tryStart(Job job, const QString& what, QString* why = nullptr);
  // Releases the gate when `job` holds it (a late report of an older job changes nothing).
  void finish(Job job);
  // True (and refused() emitted) while a job holds the gate: for starts that open a dialog first.
  bool refuseIfBusy();
  // Sets the cancel flag of the job holding the gate.
  void cancel();

  bool isBusy() const { return job_ != Job::None; }
  Job current() const { return job_; }
  QString refusal() const;  // why a start is refused now; empty when idle

 signals:
  void busyChanged(bool busy);
  void refused(const QString& why);

 private:
  Job job_ = Job::None;
  QString what_;
  CancelFlag cancel_;
};

}  // namespace gui
}  // namespace moe
