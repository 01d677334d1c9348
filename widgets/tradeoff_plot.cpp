#include "widgets/tradeoff_plot.h"

#include <algorithm>

#include "widgets/cluster_palette.h"
#include "widgets/plot_style.h"

namespace moe {
namespace widgets {

TradeoffPlot::TradeoffPlot(QWidget* parent) : QCustomPlot(parent) {
  setInteractions(QCP::Interactions());
  curve_ = addGraph();
  curve_->setName(tr("uniform K"));
  current_ = addGraph();
  current_->setName(tr("current plan"));
  current_->setLineStyle(QCPGraph::lsNone);
  measuredTied_ = addGraph();
  measuredTied_->setName(tr("measured (tied)"));
  measuredTied_->setLineStyle(QCPGraph::lsNone);
  measuredTied_->removeFromLegend();
  measuredCompact_ = addGraph();
  measuredCompact_->setName(tr("measured (compact)"));
  measuredCompact_->setLineStyle(QCPGraph::lsNone);
  measuredCompact_->removeFromLegend();
  hint_ = new QCPItemText(this);
  hint_->position->setType(QCPItemPosition::ptAxisRectRatio);
  hint_->position->setAxisRect(axisRect());
  hint_->position->setCoords(0.5, 0.45);
  hint_->setPositionAlignment(Qt::AlignCenter);
  hint_->setVisible(false);
  currentLabel_ = new QCPItemText(this);
  currentLabel_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  currentLabel_->setPadding(QMargins(6, 0, 0, 4));
  measurement_ = new QCPItemText(this);
  measurement_->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
  measurement_->setTextAlignment(Qt::AlignLeft);
  measurement_->setPadding(QMargins(6, 4, 0, 0));
  measurement_->setVisible(false);
  // The current plan's marker and labels on a buffered layer of their own: a cut-line drag moves
  // only them, and redrawing that layer alone spares the curve's hundreds of points per frame.
  planLayer_ = addPlanLayer(this);
  current_->setLayer(planLayer_);
  currentLabel_->setLayer(planLayer_);
  measurement_->setLayer(planLayer_);
  legend->setVisible(true);
  legend->setBrush(Qt::NoBrush);
  legend->setBorderPen(Qt::NoPen);
  axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignLeft);
  setAxisLabels(tr("memory"), tr("error"));
  applyPlotStyle(this);
  restyle();
}

void TradeoffPlot::setAxisLabels(const QString& memory, const QString& error) {
  xAxis->setLabel(memory);
  yAxis->setLabel(error);
}

void TradeoffPlot::setCurve(const std::vector<TradeoffPoint>& uniform) {
  points_ = uniform;
  for (QCPItemText* t : kLabels_) removeItem(t);
  kLabels_.clear();
  QVector<double> x, y;
  std::vector<TradeoffPoint> sorted = uniform;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.memory < b.memory; });
  const size_t step = std::max<size_t>(1, sorted.size() / 8);
  for (size_t i = 0; i < sorted.size(); ++i) {
    x << sorted[i].memory;
    y << sorted[i].error;
    if (sorted[i].k > 0 && (i % step == 0 || i + 1 == sorted.size())) {
      auto* t = new QCPItemText(this);
      t->position->setCoords(sorted[i].memory, sorted[i].error);
      t->setPositionAlignment(Qt::AlignRight | Qt::AlignTop);
      t->setPadding(QMargins(0, 3, 4, 0));
      t->setText(QString::number(sorted[i].k));
      kLabels_.push_back(t);
    }
  }
  curve_->setData(x, y, true);
  // Markers on about 48 of the points (every K of 512 experts would be a solid band of circles).
  curve_->setScatterSkip(std::max(0, static_cast<int>(sorted.size()) / 48 - 1));
  restyle();
  rescale();
}

void TradeoffPlot::setCurrent(const TradeoffPoint& plan) {
  current_->setData(QVector<double>{plan.memory}, QVector<double>{plan.error}, true);
  currentLabel_->position->setCoords(plan.memory, plan.error);
  currentLabel_->setText(tr("plan"));
  measurement_->position->setCoords(plan.memory, plan.error);
  if (setRanges()) replot(QCustomPlot::rpQueuedReplot);
  else planLayer_->replot();  // the axes stay: only the marker's layer is drawn again
}

void TradeoffPlot::clearCurrent() {
  current_->data()->clear();
  currentLabel_->setText(QString());
  measurement_->setVisible(false);
  rescale();
}

void TradeoffPlot::setMeasured(const std::vector<TradeoffPoint>& tied, const std::vector<TradeoffPoint>& compact) {
  for (auto [graph, points] : {std::pair{measuredTied_, &tied}, std::pair{measuredCompact_, &compact}}) {
    QVector<double> x, y;
    for (const TradeoffPoint& p : *points) x << p.memory, y << p.error;
    graph->setData(x, y);
    if (points->empty()) graph->removeFromLegend();
    else graph->addToLegend();
  }
  rescale();
}

void TradeoffPlot::setHint(const QString& text) {
  hint_->setText(text);
  hint_->setVisible(!text.isEmpty());
  replot(QCustomPlot::rpQueuedReplot);
}

QString TradeoffPlot::hintText() const { return hint_->visible() ? hint_->text() : QString(); }

void TradeoffPlot::setMeasurement(const QString& text) {
  measurement_->setText(text);
  measurement_->setVisible(!text.isEmpty());
  replot(QCustomPlot::rpQueuedReplot);
}

QString TradeoffPlot::measurementText() const { return measurement_->visible() ? measurement_->text() : QString(); }

int TradeoffPlot::curvePointCount() const { return curve_->dataCount(); }

void TradeoffPlot::rescale() {
  setRanges();
  replot(QCustomPlot::rpQueuedReplot);
}

bool TradeoffPlot::setRanges() {
  // Over every graph that has points (the curve is empty on axes only measured plans have).
  QCPRange xr, yr;
  bool any = false;
  for (QCPGraph* g : {curve_, current_, measuredTied_, measuredCompact_}) {
    if (g->dataCount() == 0) continue;
    bool found = false;
    const QCPRange gx = g->getKeyRange(found), gy = g->getValueRange(found);
    if (!found) continue;
    if (!any) xr = gx, yr = gy;
    else xr.expand(gx), yr.expand(gy);
    any = true;
  }
  if (!any) xr = QCPRange(0, 1), yr = QCPRange(0, 1);
  const double dx = std::max(xr.size() * 0.08, 1e-9), dy = std::max(yr.size() * 0.1, 1e-9);
  const QCPRange x(xr.lower - dx, xr.upper + dx), y(std::min(0.0, yr.lower - dy), yr.upper + dy);
  if (x == xAxis->range() && y == yAxis->range()) return false;
  xAxis->setRange(x);
  yAxis->setRange(y);
  return true;
}

void TradeoffPlot::restyle() {
  const bool dark = isDarkPalette(palette());
  const QColor line = neutralColor(palette());
  curve_->setPen(QPen(line, 1.6));
  curve_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, line, palette().color(QPalette::Base), 5));
  const QColor accent = dark ? QColor(255, 120, 110) : QColor(200, 40, 40);
  current_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, accent, accent, 12));
  currentLabel_->setColor(accent);
  measurement_->setColor(accent);
  const QColor tied = dark ? QColor(110, 170, 255) : QColor(30, 90, 200);
  const QColor compact = dark ? QColor(120, 220, 140) : QColor(30, 140, 60);
  measuredTied_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, tied, tied, 8));
  measuredCompact_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, compact, compact, 9));
  hint_->setColor(palette().color(QPalette::PlaceholderText));
  QFont bold = font();
  bold.setBold(true);
  currentLabel_->setFont(bold);
  QFont small = font();
  small.setPointSizeF(small.pointSizeF() * 0.85);
  for (QCPItemText* t : kLabels_) {
    t->setColor(palette().color(QPalette::PlaceholderText));
    t->setFont(small);
  }
  legend->setTextColor(palette().color(QPalette::WindowText));
  replot(QCustomPlot::rpQueuedReplot);
}

void TradeoffPlot::changeEvent(QEvent* event) {
  QCustomPlot::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    applyPlotStyle(this);
    restyle();
  } else if (event->type() == QEvent::LanguageChange) {
    // Axis labels come from the caller, which retranslates them itself.
    curve_->setName(tr("uniform K"));
    current_->setName(tr("current plan"));
    measuredTied_->setName(tr("measured (tied)"));
    measuredCompact_->setName(tr("measured (compact)"));
    if (!currentLabel_->text().isEmpty()) currentLabel_->setText(tr("plan"));
    replot(QCustomPlot::rpQueuedReplot);
  }
}

}  // namespace widgets
}  // namespace moe
