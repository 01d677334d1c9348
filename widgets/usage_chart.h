#pragma once
// Per-expert usage frequency (bars, coloured by cluster) and REAP score (line, right axis) of one
// layer, in the same order as the dendrogram leaves, or sorted by usage or by REAP score.
// Readable at 512 experts: only the top N experts are drawn (a note says how many are hidden),
// wheel / drag zoom and pan the expert axis (double-click fits), and labels are thinned to fit.
#include <qcustomplot.h>

#include <cstdint>
#include <vector>

namespace moe {
namespace widgets {

class UsageChart : public QCustomPlot {
  Q_OBJECT

 public:
  enum class SortMode { LeafOrder, ByUsage, ByReap };
  static constexpr int DefaultTopN = 64;

  explicit UsageChart(QWidget* parent = nullptr);
  // All vectors are per expert, in expert order; order: display position -> expert.
  void setData(const std::vector<double>& usage, const std::vector<double>& reap, const std::vector<int64_t>& order,
               const std::vector<int64_t>& clusters);
  void setHighlightedExperts(const std::vector<int64_t>& experts);
  const std::vector<int64_t>& highlightedExperts() const { return highlighted_; }

  // Bars in leaf order, or by decreasing usage / REAP score (ties: lower expert id first).
  void setSortMode(SortMode mode);
  SortMode sortMode() const { return sort_; }
  // Draws only the n experts ranked highest (by REAP score when sorted by it, else by usage);
  // n <= 0 draws all.
  void setTopN(int n);
  int topN() const { return topN_; }

  // What is drawn, for tests: experts from left to right, how many are left out, and the note.
  const std::vector<int64_t>& shownExperts() const { return shown_; }
  int hiddenCount() const { return static_cast<int>(usage_.size() - shown_.size()); }
  QString hiddenNote() const;
  void fitAll();

 protected:
  void changeEvent(QEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void rebuild();
  void chooseShown();
  void clampRange(const QCPRange& range);
  bool updateTicks(bool force);

  std::vector<double> usage_, reap_;
  std::vector<int64_t> order_, clusters_, highlighted_, shown_;
  SortMode sort_ = SortMode::LeafOrder;
  int topN_ = DefaultTopN;
  QCPItemText* note_ = nullptr;
  size_t tickStep_ = 0;  // labels every tickStep_ bars
  bool tickHorizontal_ = false;
};

}  // namespace widgets
}  // namespace moe
