#pragma once
// The layer navigator: one row per decoder layer with its expert count, chosen K, memory after
// merging, reconstruction error, redundancy, usage skew and a small usage-frequency bar chart.
// Dense layers (no routed experts) are shown greyed and cannot be selected. Every column sorts
// (click its header; unknown values stay at the bottom); rows get compact past 24 layers.
#include <QTableWidget>

#include <cstdint>
#include <vector>

namespace moe {
namespace widgets {

struct LayerRow {
  int layer = 0;
  int moeIndex = -1;  // -1: dense layer, or a MoE block not analysed yet (pending)
  bool pending = false;  // a MoE block whose analysis is still running: greyed like a dense layer
  int64_t experts = 0;
  int64_t k = 0;
  bool overridden = false;       // K set for this layer, not by the global allocation
  QString memory;                // e.g. "12.4 MB" (empty: unknown)
  double memoryBytes = -1;       // the same as a number, for sorting (negative: unknown)
  double error = -1;             // reconstruction error (negative: unknown)
  bool errorExact = false;       // measured (exact) rather than estimated (shown as "≈", italic)
  QString errorToolTip;          // what the value is (tied/compact values, how it was obtained)
  double redundancy = -1;        // widgets::redundancy() of the layer's distances (negative: unknown)
  double usageSkew = -1;         // widgets::usageSkew() of the layer's usage (negative: unknown)
  std::vector<double> usage;     // in display order
  std::vector<int64_t> clusters; // cluster of each bar (same order)
  std::vector<bool> highlighted; // selected experts (same order; empty: no selection)
  bool operator==(const LayerRow& o) const;
  bool operator!=(const LayerRow& o) const { return !(*this == o); }
};

class LayerTable : public QTableWidget {
  Q_OBJECT

 public:
  // ErrorColumn items carry the number (ErrorValueRole, double) and whether it is exact (ErrorExactRole).
  static constexpr int ErrorValueRole = Qt::UserRole + 20;
  static constexpr int ErrorExactRole = Qt::UserRole + 21;
  // Every item's sort key (double; NaN: unknown, kept below the known values in both directions).
  static constexpr int SortKeyRole = Qt::UserRole + 22;
  enum Column {
    LayerColumn,
    ExpertsColumn,
    KColumn,
    MemoryColumn,
    ErrorColumn,
    RedundancyColumn,
    SkewColumn,
    UsageColumn,  // sorts by usage skew
    ColumnCount
  };

  explicit LayerTable(QWidget* parent = nullptr);
  // Rows in layer order. Only rows that differ from the ones shown are rewritten (a background
  // result usually changes one block's error; 512 usage bars per row are not rebuilt for that).
  void setRows(const std::vector<LayerRow>& rows);
  int rowsWritten() const { return rowsWritten_; }  // rows (re)written by setRows so far, for tests
  void selectMoeIndex(int moeIndex);
  int currentMoeIndex() const;
  int rowOfMoeIndex(int moeIndex) const;  // the row as shown now (after sorting); -1 if absent
  int moeIndexOfRow(int row) const;       // -1 for a dense layer

 signals:
  void moeLayerSelected(int moeIndex);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void writeRow(int r, const LayerRow& row);  // the row's cells at table row r (replacing any there)
  int rowOfLayer(int layer) const;            // the table row showing decoder layer `layer`; -1 if none
  void fitColumns();  // the columns marked in resizeColumns_ as wide as their contents (not the usage bars)

  std::vector<LayerRow> shown_;  // as last set, in layer order
  int rowsWritten_ = 0;
  unsigned resizeColumns_ = 0;  // bit c: column c's texts changed since it was last fitted
};

}  // namespace widgets
}  // namespace moe
