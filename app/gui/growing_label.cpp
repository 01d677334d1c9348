#include "app/gui/growing_label.h"

#include <QFontMetrics>
#include <QLabel>
#include <algorithm>

namespace moe {
namespace gui {

void setGrowingLabelText(QLabel* label, const QString& text, int slack) {
  // Fixed first: with its minimum and maximum equal, the label's setText no longer asks for a
  // layout (QWidgetPrivate::updateGeometry_helper).
  const QFontMetrics fm(label->font());
  const int need = fm.horizontalAdvance(text) + 8, width = label->minimumWidth();
  if (need > width || label->maximumWidth() != width) label->setFixedWidth(std::max(need, width) + slack);
  if (label->maximumHeight() != fm.height()) label->setFixedHeight(fm.height());
  label->setText(text);
}

}  // namespace gui
}  // namespace moe
