#pragma once
// Per-expert usage frequency (bars, coloured by cluster) and REAP score (line, right axis) of one
// layer, in the same order as the dendrogram leaves.
#include <qcustomplot.h>

#include <cstdint>
#include <vector>

namespace moe {
namespace widgets {

class UsageChart : public QCustomPlot {
  Q_OBJECT

 public:
  explicit UsageChart(QWidget* parent = nullptr);
  // All vectors are per expert, in expert order; order: display position -> expert.
  void setData(const std::vector<double>& usage, const std::vector<double>& reap, const std::vector<int64_t>& order,
               const std::vector<int64_t>& clusters);
  void setHighlightedExperts(const std::vector<int64_t>& experts);
  const std::vector<int64_t>& highlightedExperts() const { return highlighted_; }

 protected:
  void changeEvent(QEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;

 private:
  void rebuild();

  std::vector<double> usage_, reap_;
  std::vector<int64_t> order_, clusters_, highlighted_;
};

}  // namespace widgets
}  // namespace moe
