#pragma once
// Runs independent per-block work of a clustering switch (linkages, plan entries) on every core,
// on plain threads for the duration of one call: the work is tens of milliseconds, and the GUI
// thread takes a share instead of waiting.
#include <functional>

namespace moe {
namespace gui {

// Calls body(i) once for each i in [0, n), on up to min(n, cores, 8) threads, the caller's
// included. Rethrows the failure of the lowest index once every call has returned, as a
// sequential loop's first failure would surface.
void parallelFor(int n, const std::function<void(int)>& body);

}  // namespace gui
}  // namespace moe
