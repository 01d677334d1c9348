#include "widgets/layer_table.h"

#include <QEvent>
#include <QFontMetrics>
#include <QHeaderView>
#include <algorithm>
#include <cmath>
#include <limits>

#include "widgets/usage_bar_delegate.h"

namespace moe {
namespace widgets {
namespace {

constexpr int kCompactFrom = 24;  // more layers than this: compact rows, so 94 fit on a screen
constexpr int kCellPadding = 16;  // a cell's margins and focus frame around its text (pixels, generous)

// Sorts by SortKeyRole; unknown (NaN) keys stay last whichever the direction, ties by layer.
class SortItem : public QTableWidgetItem {
 public:
  using QTableWidgetItem::QTableWidgetItem;
  bool operator<(const QTableWidgetItem& other) const override {
    const double a = data(LayerTable::SortKeyRole).toDouble(), b = other.data(LayerTable::SortKeyRole).toDouble();
    const bool aUnknown = std::isnan(a), bUnknown = std::isnan(b);
    if (aUnknown != bUnknown) {
      // Qt sorts descending with "other < this", so unknown must compare low there and high here.
      const bool descending =
          tableWidget() && tableWidget()->horizontalHeader()->sortIndicatorOrder() == Qt::DescendingOrder;
      return descending ? aUnknown : bUnknown;
    }
    if (!aUnknown && a != b) return a < b;
    return data(LayerKeyRole).toInt() < other.data(LayerKeyRole).toInt();
  }
  static constexpr int LayerKeyRole = Qt::UserRole + 23;
};

double keyOf(double value) { return value < 0 ? std::numeric_limits<double>::quiet_NaN() : value; }

}  // namespace

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
  horizontalHeader()->setSortIndicator(LayerColumn, Qt::AscendingOrder);
  setSortingEnabled(true);
  // Fitted to the contents once per setRows (fitColumns), not ResizeToContents: with that mode
  // every item change made the view measure every cell's text again (the profile at 60 layers:
  // half the GUI thread's time went to text layout inside setItem).
  horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  horizontalHeader()->setSectionResizeMode(UsageColumn, QHeaderView::Stretch);
  setItemDelegateForColumn(UsageColumn, new UsageBarDelegate(this));
  retranslate();
  connect(this, &QTableWidget::itemSelectionChanged, this, [this] {
    const int j = currentMoeIndex();
    if (j >= 0) emit moeLayerSelected(j);
  });
}

void LayerTable::retranslate() {
  setHorizontalHeaderLabels(
      {tr("Layer"), tr("Experts"), tr("K"), tr("Memory"), tr("Error"), tr("Red."), tr("Skew"), tr("Usage")});
  horizontalHeaderItem(MemoryColumn)->setToolTip(tr("Parameter memory of the layer after merging"));
  horizontalHeaderItem(ErrorColumn)->setToolTip(
      tr("Relative L2 error of the merged block's output against the original block on calibration tokens "
         "(tied semantics). Values marked \u2248 are estimates from the experts' mean outputs, shown until "
         "the exact value is computed."));
  horizontalHeaderItem(RedundancyColumn)->setToolTip(
      tr("Redundancy: 1 − mean distance from each expert to its nearest other expert / mean distance between "
         "experts. Near 1: experts have close twins and merge cheaply; near 0: evenly spread."));
  horizontalHeaderItem(SkewColumn)->setToolTip(
      tr("Usage skew: 1 − normalised entropy of the usage frequencies. 0: every expert used equally; "
         "1: one expert takes every selection."));
  horizontalHeaderItem(UsageColumn)->setToolTip(
      tr("Usage frequency of each expert, in dendrogram order (sorts by usage skew)"));
}

bool LayerRow::operator==(const LayerRow& o) const {
  return layer == o.layer && moeIndex == o.moeIndex && pending == o.pending && experts == o.experts && k == o.k &&
         overridden == o.overridden && memory == o.memory && memoryBytes == o.memoryBytes && error == o.error &&
         errorExact == o.errorExact && errorToolTip == o.errorToolTip && redundancy == o.redundancy &&
         usageSkew == o.usageSkew && usage == o.usage && clusters == o.clusters && highlighted == o.highlighted;
}

void LayerTable::setRows(const std::vector<LayerRow>& rows) {
  const int keep = currentMoeIndex();
  const QSignalBlocker blocker(this);
  const int writtenBefore = rowsWritten_;
  const bool sameLayers = rows.size() == shown_.size() && rowCount() == static_cast<int>(rows.size()) &&
                          std::equal(rows.begin(), rows.end(), shown_.begin(),
                                     [](const LayerRow& a, const LayerRow& b) { return a.layer == b.layer; });
  if (sameLayers) {
    // Rows are rewritten in place with sorting left on (writeRow sets the sorted column's cell
    // last, and Qt moves the row if its key changed): switching sorting off and on re-sorts the
    // whole table and repaints all of it, ~9 ms of every cut-line drag frame at 60 layers. Each
    // changed layer's row is looked up when written, since an earlier row may have moved.
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i] == shown_[i]) continue;
      const int r = rowOfLayer(rows[i].layer);
      if (r >= 0) writeRow(r, rows[i]);
    }
  } else {
    // Filled unsorted (Qt would move rows while they are being filled), sorted again at the end.
    setSortingEnabled(false);
    const int fontRow = fontMetrics().height() + 4;
    verticalHeader()->setDefaultSectionSize(rows.size() > kCompactFrom ? std::max(16, fontRow) : 28);
    setRowCount(static_cast<int>(rows.size()));
    for (int r = 0; r < rowCount(); ++r) writeRow(r, rows[static_cast<size_t>(r)]);
    setSortingEnabled(true);  // re-sorts by the header's current column and direction
  }
  shown_ = rows;
  if (rowsWritten_ != writtenBefore) fitColumns();  // only the columns whose texts no longer fit
  if (keep >= 0) selectMoeIndex(keep);
}

int LayerTable::rowOfLayer(int layer) const {
  for (int r = 0; r < rowCount(); ++r)
    if (const QTableWidgetItem* it = item(r, LayerColumn); it && it->data(SortItem::LayerKeyRole).toInt() == layer)
      return r;
  return -1;
}

void LayerTable::writeRow(int r, const LayerRow& row) {
  ++rowsWritten_;
  const bool dense = row.moeIndex < 0;
  const double unknown = std::numeric_limits<double>::quiet_NaN();
  double key = unknown;  // the sort key of the next cell
  // The cells are made first and set at the end, the sorted column's last: with sorting on, Qt
  // moves the row as soon as that cell is set.
  std::vector<std::pair<int, QTableWidgetItem*>> made;
  auto cell = [&](int column, const QString& text, Qt::Alignment align = Qt::AlignRight | Qt::AlignVCenter) {
    auto* item = new SortItem(text);
    made.emplace_back(column, item);
    item->setTextAlignment(align);
    item->setData(Qt::UserRole, row.moeIndex);
    item->setData(SortKeyRole, dense && column != LayerColumn ? unknown : key);
    item->setData(SortItem::LayerKeyRole, row.layer);
    item->setFlags(dense ? Qt::ItemFlags() : (Qt::ItemIsEnabled | Qt::ItemIsSelectable));
    return item;
  };
  key = row.layer;
  cell(LayerColumn,
       row.pending ? tr("%1 (pending)").arg(row.layer)
                   : (dense ? tr("%1 (dense)").arg(row.layer) : QString::number(row.layer)),
       Qt::AlignLeft | Qt::AlignVCenter);
  key = static_cast<double>(row.experts);
  cell(ExpertsColumn, dense ? QStringLiteral("\u2013") : QString::number(row.experts));
  key = static_cast<double>(row.k);
  QTableWidgetItem* k = cell(KColumn, dense ? QStringLiteral("\u2013") : QString::number(row.k));
  if (row.overridden) {
    QFont f = font();
    f.setBold(true);
    k->setFont(f);
    k->setToolTip(tr("Set for this layer (overrides the global allocation)"));
  }
  key = keyOf(row.memoryBytes);
  cell(MemoryColumn, row.memory.isEmpty() ? QStringLiteral("\u2013") : row.memory);
  key = keyOf(row.error);
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
  key = keyOf(row.redundancy);
  cell(RedundancyColumn, row.redundancy < 0 ? QStringLiteral("\u2013") : QString::number(row.redundancy, 'f', 2));
  key = keyOf(row.usageSkew);
  cell(SkewColumn, row.usageSkew < 0 ? QStringLiteral("\u2013") : QString::number(row.usageSkew, 'f', 2));
  QTableWidgetItem* usage = cell(UsageColumn, QString());
  QVariantList values, clusters;
  for (double u : row.usage) values << u;
  for (int64_t c : row.clusters) clusters << QVariant::fromValue(static_cast<int>(c));
  usage->setData(UsageBarDelegate::ValuesRole, values);
  usage->setData(UsageBarDelegate::ClustersRole, clusters);
  QVariantList highlighted;
  for (bool h : row.highlighted) highlighted << h;
  usage->setData(UsageBarDelegate::HighlightRole, highlighted);

  // A column is fitted again when a new text is wider than the column (a new table: always);
  // narrower texts leave it as it is, so that a drag does not re-measure every row's cells.
  for (const auto& [column, it] : made) {
    const QTableWidgetItem* old = item(r, column);
    if (old && old->text() == it->text()) continue;
    const int need = QFontMetrics(it->font()).horizontalAdvance(it->text()) + kCellPadding;
    if (!old || need > columnWidth(column)) resizeColumns_ |= 1u << column;
  }
  const int sorted = isSortingEnabled() ? horizontalHeader()->sortIndicatorSection() : -1;
  for (const auto& [column, it] : made)
    if (column != sorted) setItem(r, column, it);
  for (const auto& [column, it] : made)
    if (column == sorted) setItem(r, column, it);
}

void LayerTable::fitColumns() {
  for (int c = 0; c < UsageColumn; ++c)
    if (resizeColumns_ & (1u << c)) resizeColumnToContents(c);
  resizeColumns_ = 0;
}

int LayerTable::moeIndexOfRow(int row) const {
  const QTableWidgetItem* it = item(row, LayerColumn);
  return it ? it->data(Qt::UserRole).toInt() : -1;
}

int LayerTable::rowOfMoeIndex(int moeIndex) const {
  if (moeIndex < 0) return -1;
  for (int r = 0; r < rowCount(); ++r)
    if (moeIndexOfRow(r) == moeIndex) return r;
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
  if (event->type() == QEvent::LanguageChange) {
    retranslate();
    resizeColumns_ = ~0u;  // the header texts changed
    fitColumns();
    // The cells' own texts ("dense", "pending") follow too: every row is written again.
    const std::vector<LayerRow> rows = std::move(shown_);
    shown_.clear();
    if (!rows.empty()) setRows(rows);
  }
}

}  // namespace widgets
}  // namespace moe
