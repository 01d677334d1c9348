#pragma once
// The export dialog's defaults, in one place: which compact router and which output folder an
// export starts from. The user can change both; these are what a plain "Export" does.
#include <QString>

#include "core/merge/plan.h"

namespace moe {
namespace gui {

// Tied-fit: the best measured compact router (README, "Results on the demo model"); the faster
// average and fitted ones stay options of the dialog.
moe::RouterMode defaultCompactRouter();

// Where an export named `name` (e.g. "demo-moe-merged-k8") of the model at `modelDir` goes by
// default: beside the model when the model folder's parent is writable and is not part of the
// application (the bundled demo lives in its resources), else in the user's Documents folder.
// Never inside the model folder; when the folder already exists, "-2", "-3", ... is appended.
QString defaultExportFolder(const QString& modelDir, const QString& name);

// Whether `path` is `folder` or lies inside it (both made absolute and canonical where they exist).
bool isInsideFolder(const QString& path, const QString& folder);

}  // namespace gui
}  // namespace moe
