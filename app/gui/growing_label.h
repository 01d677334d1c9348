#pragma once
// Labels whose text changes on every edit (status texts beside the plan): a label whose size may
// change re-runs the whole window's layout on each new text (QLabel::setText asks the parent for
// a new layout unless the label's size is fixed), which cost milliseconds of every cut-line drag
// frame. Their size is fixed instead, and only grows.
#include <QString>

class QLabel;

namespace moe {
namespace gui {

// Sets `text` and fixes the label's size: its height to one line, its width to the widest text so
// far plus `slack` pixels (so that a slightly longer text does not grow it again at once).
void setGrowingLabelText(QLabel* label, const QString& text, int slack = 40);

}  // namespace gui
}  // namespace moe
