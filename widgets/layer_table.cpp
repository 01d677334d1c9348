#include "widgets/layer_table.h"

#include <QEvent>
#include <QHeaderView>

#include "widgets/usage_bar_delegate.h"

namespace moe {
namespace widgets {

LayerTable::LayerTable(QWidget* parent) : QTableWidget(parent) {
  setColumnCount(ColumnCount);
  setSelectionBehavior(QAbstractItemView::SelectRows);
  setSelectionMode(QAbstractItemView::SingleSelection);
  setEditTriggers(QAbstractItemView::NoEditTriggers);
  setAlternatingRowColors(true);
  setShowGrid(false);
  setWordWrap(false);
  verticalHeader()->setVisible(false);
  verticalHeader()->setDefaultSectionSize(28);
  horizontalHeader()->setHighlightSections(false);
  horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  horizontalHeader()->setSectionResizeMode(UsageColumn, QHeaderView::Stretch);
  setItemDelegateForColumn(UsageColumn, new UsageBarDelegate(this));
  retranslate();
  connect(this, &QTableWidget::itemSelectionChanged, this, [this] {
    const int j = currentMoeIndex();
    if (j >= 0) emit moeLayerSelected(j);
  });
}

void LayerTable::retranslate() {
  setHorizontalHeaderLabels({tr("Layer"), tr("Experts"), tr("K"), tr("Memory"), tr("Error"), tr("Usage")});
  horizontalHeaderItem(MemoryColumn)->setToolTip(tr("Parameter memory of the layer after merging"));
  horizontalHeaderItem(ErrorColumn)->setToolTip(
      tr("Relative L2 error of the merged block's output against the original block on calibration tokens "
         "(tied semantics). Values marked \u2248 are estimates from the experts' mean outputs, shown until "
         "the exact value is computed."));
  horizontalHeaderItem(UsageColumn)->setToolTip(tr("Usage frequency of each expert, in dendrogram order"));
}

void LayerTable::setRows(const std::vector<LayerRow>& rows) {
  const int keep = currentMoeIndex();
  const QSignalBlocker blocker(this);
  rows_ = rows;
  setRowCount(static_cast<int>(rows.size()));
  for (int r = 0; r < rowCount(); ++r) {
    const LayerRow& row = rows[static_cast<size_t>(r)];
    const bool dense = row.moeIndex < 0;
    auto cell = [&](int column, const QString& text, Qt::Alignment align = Qt::AlignRight | Qt::AlignVCenter) {
      auto* item = new QTableWidgetItem(text);
      item->setTextAlignment(align);
      item->setData(Qt::UserRole, row.moeIndex);
      item->setFlags(dense ? Qt::ItemFlags() : (Qt::ItemIsEnabled | Qt::ItemIsSelectable));
      setItem(r, column, item);
      return item;
    };
    cell(LayerColumn, dense ? tr("%1 (dense)").arg(row.layer) : QString::number(row.layer),
         Qt::AlignLeft | Qt::AlignVCenter);
    cell(ExpertsColumn, dense ? QStringLiteral("\u2013") : QString::number(row.experts));
    QTableWidgetItem* k = cell(KColumn, dense ? QStringLiteral("\u2013") : QString::number(row.k));
    if (row.overridden) {
      QFont f = font();
      f.setBold(true);
      k->setFont(f);
      k->setToolTip(tr("Set for this layer (overrides the global allocation)"));
    }
    cell(MemoryColumn, row.memory.isEmpty() ? QStringLiteral("\u2013") : row.memory);
    QTableWidgetItem* error = cell(ErrorColumn, row.error < 0 ? QStringLiteral("\u2013")
                                                              : (row.errorExact ? QString() : QStringLiteral("\u2248")) +
                                                                    QString::number(row.error, 'f', 3));
    error->setData(ErrorValueRole, row.error);
    error->setData(ErrorExactRole, row.errorExact);
    error->setToolTip(row.errorToolTip);
    if (!dense && row.error >= 0 && !row.errorExact) {
      // Estimates look provisional: italic and muted until the exact value replaces them.
      QFont f = font();
      f.setItalic(true);
      error->setFont(f);
      error->setForeground(palette().color(QPalette::Disabled, QPalette::Text));
    }
    QTableWidgetItem* usage = cell(UsageColumn, QString());
    QVariantList values, clusters;
    for (double u : row.usage) values << u;
    for (int64_t c : row.clusters) clusters << QVariant::fromValue(static_cast<int>(c));
    usage->setData(UsageBarDelegate::ValuesRole, values);
    usage->setData(UsageBarDelegate::ClustersRole, clusters);
    QVariantList highlighted;
    for (bool h : row.highlighted) highlighted << h;
    usage->setData(UsageBarDelegate::HighlightRole, highlighted);
  }
  if (keep >= 0) selectMoeIndex(keep);
}

int LayerTable::rowOfMoeIndex(int moeIndex) const {
  for (size_t r = 0; r < rows_.size(); ++r)
    if (rows_[r].moeIndex == moeIndex) return static_cast<int>(r);
  return -1;
}

void LayerTable::selectMoeIndex(int moeIndex) {
  const int r = rowOfMoeIndex(moeIndex);
  if (r < 0 || currentMoeIndex() == moeIndex) return;
  selectRow(r);
}

int LayerTable::currentMoeIndex() const {
  const auto rows = selectionModel() ? selectionModel()->selectedRows() : QModelIndexList{};
  if (rows.isEmpty()) return -1;
  return rows.front().data(Qt::UserRole).toInt();
}

void LayerTable::changeEvent(QEvent* event) {
  QTableWidget::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) retranslate();
}

}  // namespace widgets
}  // namespace moe
