#pragma once
// Threads for background work the user did not ask to wait for (exact layer errors, the
// estimate's models): they run at a lower CPU priority, so that on a small machine the GUI thread
// gets a core first while a drag or a clustering switch is being drawn.
#include <QThread>

namespace moe {
namespace gui {

// Starts `thread`; its work (and the worker threads it starts, which inherit the setting) runs at
// nice +10. Not idle scheduling: that would stop it whenever anything else runs (a parallel build,
// another test), and the exact errors would never arrive on a busy machine.
void startBackgroundThread(QThread& thread);

}  // namespace gui
}  // namespace moe
