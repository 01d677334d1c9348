#include "app/gui/background_thread.h"

#include <sys/resource.h>

namespace moe {
namespace gui {

void startBackgroundThread(QThread& thread) {
  // `started` is emitted from the new thread, and a connection without a receiver runs there: on
  // Linux the nice value is per thread, and PRIO_PROCESS with 0 names the calling one.
  QObject::connect(&thread, &QThread::started, [] { (void)setpriority(PRIO_PROCESS, 0, 10); });
  thread.start();
}

}  // namespace gui
}  // namespace moe
