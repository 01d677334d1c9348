#pragma once
// An action that runs at most once per interval, for views refreshed on every plan edit while
// edits come at the rate of a cut-line drag (one per frame): a request after a quiet interval
// runs it at once, later ones are served by one run when the interval ends, so the last request
// is never lost.
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <functional>

namespace moe {
namespace gui {

class RateLimitedAction : public QObject {
 public:
  // Background results (exact errors, status changes) come in bursts, one per scored entry: views
  // refresh once per this interval for any number of them (requestIn).
  static constexpr int kResultBurstMs = 30;
  RateLimitedAction(int intervalMs, std::function<void()> action, QObject* parent);
  void request();          // now, or when the interval since the last run ends
  void requestIn(int ms);  // in `ms` unless a run is pending already (bursts of results)
  void flush();            // a pending run, now
  void run();              // now, and the interval starts again

 private:
  int interval_;
  std::function<void()> action_;
  QTimer pending_;
  QElapsedTimer sinceRun_;
};

}  // namespace gui
}  // namespace moe
