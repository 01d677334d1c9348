#pragma once
// The layer navigator: one row per decoder layer with its expert count, chosen K, memory after
// merging, reconstruction error and a small usage-frequency bar chart. Dense layers (no routed
// experts) are shown greyed and cannot be selected.
#include <QTableWidget>

#include <cstdint>
#include <vector>

namespace moe {
namespace widgets {

struct LayerRow {
  int layer = 0;
  int moeIndex = -1;  // -1: dense layer
  int64_t experts = 0;
  int64_t k = 0;
  bool overridden = false;       // K set for this layer, not by the global allocation
  QString memory;                // e.g. "12.4 MB" (empty: unknown)
  double error = -1;             // reconstruction error (negative: unknown)
  std::vector<double> usage;     // in display order
  std::vector<int64_t> clusters; // cluster of each bar (same order)
};

class LayerTable : public QTableWidget {
  Q_OBJECT

 public:
  enum Column { LayerColumn, ExpertsColumn, KColumn, MemoryColumn, ErrorColumn, UsageColumn, ColumnCount };

  explicit LayerTable(QWidget* parent = nullptr);
  void setRows(const std::vector<LayerRow>& rows);
  void selectMoeIndex(int moeIndex);
  int currentMoeIndex() const;
  int rowOfMoeIndex(int moeIndex) const;

 signals:
  void moeLayerSelected(int moeIndex);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  std::vector<LayerRow> rows_;
};

}  // namespace widgets
}  // namespace moe
