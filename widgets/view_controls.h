#pragma once
// Small control strips for a panel header, each driving one view and retranslating itself:
// the heatmap's cluster summary and fit, the usage chart's order and top-N.
#include <QWidget>

class QComboBox;
class QSpinBox;
class QToolButton;

namespace moe {
namespace widgets {

class HeatmapView;
class UsageChart;

class HeatmapControls : public QWidget {
  Q_OBJECT

 public:
  HeatmapControls(HeatmapView* view, QWidget* parent = nullptr);
  QToolButton* summaryButton() const { return summary_; }  // checkable: K x K cluster summary
  QToolButton* fitButton() const { return fit_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  QToolButton* summary_;
  QToolButton* fit_;
};

class UsageChartControls : public QWidget {
  Q_OBJECT

 public:
  UsageChartControls(UsageChart* chart, QWidget* parent = nullptr);
  QComboBox* sortCombo() const { return sort_; }  // index = UsageChart::SortMode
  QSpinBox* topSpin() const { return top_; }      // 0: all experts

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  QComboBox* sort_;
  QSpinBox* top_;
};

}  // namespace widgets
}  // namespace moe
