#pragma once
// Memory against a quality proxy: the curve of uniform plans (K from E down to 1) and the current
// plan as a marker. Values are given by the caller; the plot only draws them.
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
  int curvePointCount() const;
  // Measured numbers (perplexity, KL) written beside the current-plan marker; empty: none.
  void setMeasurement(const QString& text);
  QString measurementText() const;

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void restyle();
  void rescale();

  QCPGraph* curve_ = nullptr;
  QCPGraph* current_ = nullptr;
  QCPItemText* currentLabel_ = nullptr;
  QCPItemText* measurement_ = nullptr;
  std::vector<QCPItemText*> kLabels_;
  std::vector<TradeoffPoint> points_;
};

}  // namespace widgets
}  // namespace moe
