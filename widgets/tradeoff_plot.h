#pragma once
// Memory against a quality measure: the curve of uniform plans (K from E down to 1), the current
// plan as a marker and measured plans (tied, compact) as markers. Values are given by the caller;
// the plot only draws them.
#include <qcustomplot.h>

#include <vector>

namespace moe {
namespace widgets {

struct TradeoffPoint {
  double memory = 0;  // x, e.g. MB or % of the original model
  double error = 0;   // y, the quality proxy (lower is better)
  int k = 0;          // uniform K of the point (0: none)
};

class TradeoffPlot : public QCustomPlot {
  Q_OBJECT

 public:
  explicit TradeoffPlot(QWidget* parent = nullptr);
  void setAxisLabels(const QString& memory, const QString& error);
  void setCurve(const std::vector<TradeoffPoint>& uniform);
  void setCurrent(const TradeoffPoint& plan);
  void clearCurrent();  // no marker (the value shown has none for the current plan)
  // Measured plans (perplexity / agreement measurements), tied and compact, drawn as markers; the
  // caller passes only the points that have a value on the y axis shown.
  void setMeasured(const std::vector<TradeoffPoint>& tied, const std::vector<TradeoffPoint>& compact);
  // A line in the middle of the plot saying how to get the values the axis needs; empty: none.
  void setHint(const QString& text);
  QString hintText() const;
  int curvePointCount() const;
  QCPGraph* curveGraph() const { return curve_; }
  QCPGraph* measuredGraph(bool compact) const { return compact ? measuredCompact_ : measuredTied_; }
  QCPGraph* currentGraph() const { return current_; }
  // Measured numbers (perplexity, KL) written beside the current-plan marker; empty: none.
  void setMeasurement(const QString& text);
  QString measurementText() const;

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void restyle();
  void rescale();    // the ranges, then a (queued) replot
  bool setRanges();  // axis ranges over every graph's points; false when they stay as they were

  QCPGraph* curve_ = nullptr;
  QCPGraph* current_ = nullptr;
  QCPGraph* measuredTied_ = nullptr;
  QCPGraph* measuredCompact_ = nullptr;
  QCPItemText* hint_ = nullptr;
  QCPItemText* currentLabel_ = nullptr;
  QCPItemText* measurement_ = nullptr;
  QCPLayer* planLayer_ = nullptr;
  std::vector<QCPItemText*> kLabels_;
  std::vector<TradeoffPoint> points_;
};

}  // namespace widgets
}  // namespace moe
