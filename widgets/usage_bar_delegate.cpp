#include "widgets/usage_bar_delegate.h"

#include <QPainter>
#include <algorithm>

#include "widgets/cluster_palette.h"

namespace moe {
namespace widgets {

void UsageBarDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QStyledItemDelegate::paint(painter, option, QModelIndex());  // background and selection only
  const QVariantList values = index.data(ValuesRole).toList();
  const QVariantList clusters = index.data(ClustersRole).toList();
  const QVariantList highlight = index.data(HighlightRole).toList();
  const bool anyHighlighted = std::any_of(highlight.begin(), highlight.end(), [](const QVariant& v) { return v.toBool(); });
  if (values.isEmpty()) return;
  double top = 0;
  for (const QVariant& v : values) top = std::max(top, v.toDouble());
  if (top <= 0) return;
  const QRectF area = QRectF(option.rect).adjusted(4, 4, -4, -4);
  const double w = area.width() / values.size();
  const bool dark = isDarkPalette(option.palette);
  std::vector<int64_t> labels;
  std::vector<double> usage;
  for (int i = 0; i < clusters.size() && i < values.size(); ++i) {
    labels.push_back(clusters[i].toInt());
    usage.push_back(values[i].toDouble());
  }
  const ClusterColoring coloring(labels, usage);
  const bool enabled = option.state & QStyle::State_Enabled;
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing, false);
  for (int i = 0; i < values.size(); ++i) {
    const double h = area.height() * values[i].toDouble() / top;
    QColor c = i < clusters.size() ? coloring.color(clusters[i].toInt(), dark) : option.palette.color(QPalette::Highlight);
    if (!enabled) c = neutralColor(option.palette);
    if (anyHighlighted && !(i < highlight.size() && highlight[i].toBool())) c.setAlpha(60);
    const QRectF bar(area.left() + i * w + (w > 3 ? 0.5 : 0), area.bottom() - h, std::max(1.0, w - (w > 3 ? 1 : 0)), h);
    painter->fillRect(bar, c);
  }
  painter->restore();
}

QSize UsageBarDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QSize s = QStyledItemDelegate::sizeHint(option, index);
  return {std::max(s.width(), 120), std::max(s.height(), 26)};
}

}  // namespace widgets
}  // namespace moe
