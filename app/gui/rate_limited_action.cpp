#include "app/gui/rate_limited_action.h"

namespace moe {
namespace gui {

RateLimitedAction::RateLimitedAction(int intervalMs, std::function<void()> action, QObject* parent)
    : QObject(parent), interval_(intervalMs), action_(std::move(action)) {
  pending_.setSingleShot(true);
  connect(&pending_, &QTimer::timeout, this, &RateLimitedAction::run);
}

void RateLimitedAction::request() {
  if (!sinceRun_.isValid() || sinceRun_.elapsed() >= interval_) return run();
  requestIn(static_cast<int>(interval_ - sinceRun_.elapsed()));
}

void RateLimitedAction::requestIn(int ms) {
  if (!pending_.isActive()) pending_.start(ms);
}

void RateLimitedAction::flush() {
  if (pending_.isActive()) run();
}

void RateLimitedAction::run() {
  pending_.stop();
  sinceRun_.start();
  action_();
}

}  // namespace gui
}  // namespace moe
