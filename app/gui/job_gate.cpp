#include "app/gui/job_gate.h"

namespace moe {
namespace gui {

CancelFlag JobGate::tryStart(Job job, const QString& what, QString* why) {
  if (isBusy()) {
    const QString reason = refusal();
    if (why) *why = reason;
    emit refused(reason);
    return nullptr;
  }
  job_ = job;
  what_ = what;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  emit busyChanged(true);
  return cancel_;
}

void JobGate::finish(Job job) {
  if (job_ != job || job == Job::None) return;
  job_ = Job::None;
  what_.clear();
  cancel_.reset();
  emit busyChanged(false);
}

bool JobGate::refuseIfBusy() {
  if (!isBusy()) return false;
  emit refused(refusal());
  return true;
}

void JobGate::cancel() {
  if (cancel_) *cancel_ = true;
}

QString JobGate::refusal() const {
  if (!isBusy()) return {};
  return tr("Busy: %1. Wait for it to finish or cancel it first.").arg(what_);
}

}  // namespace gui
}  // namespace moe
