#pragma once
// Paints a small bar chart of per-expert usage frequencies inside a table cell, bars coloured by
// cluster. The cell's data: UsageBarDelegate::ValuesRole (QVariantList of doubles, in the order to
// draw) and ClustersRole (QVariantList of cluster ids, same order; optional).
#include <QStyledItemDelegate>

namespace moe {
namespace widgets {

class UsageBarDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  static constexpr int ValuesRole = Qt::UserRole + 10;
  static constexpr int ClustersRole = Qt::UserRole + 11;
  // Optional QVariantList of bools (same order): when any is true, the others are drawn faded so
  // that a selection made in another view stands out here too.
  static constexpr int HighlightRole = Qt::UserRole + 12;

  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

}  // namespace widgets
}  // namespace moe
