#include "widgets/usage_chart.h"

#include <QToolTip>
#include <algorithm>
#include <map>

#include "widgets/cluster_palette.h"
#include "widgets/plot_style.h"

namespace moe {
namespace widgets {

UsageChart::UsageChart(QWidget* parent) : QCustomPlot(parent) {
  setMouseTracking(true);
  setInteractions(QCP::Interactions());
  yAxis->setLabel(tr("usage %"));
  yAxis2->setVisible(true);
  yAxis2->setLabel(tr("REAP score"));
  xAxis->setLabel(tr("expert"));
  xAxis->grid()->setVisible(false);
  // The legend sits in its own row above the plot, where it never hides a bar or the REAP line.
  legend->setVisible(true);
  legend->setBrush(Qt::NoBrush);
  legend->setBorderPen(Qt::NoPen);
  legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  legend->setMargins(QMargins(0, 2, 0, 0));
  plotLayout()->insertRow(0);
  plotLayout()->addElement(0, 0, legend);
  plotLayout()->setRowStretchFactor(0, 0.001);
  legend->setMaximumSize(QWIDGETSIZE_MAX, 24);
  applyPlotStyle(this);
}

void UsageChart::setData(const std::vector<double>& usage, const std::vector<double>& reap,
                         const std::vector<int64_t>& order, const std::vector<int64_t>& clusters) {
  usage_ = usage;
  reap_ = reap;
  order_ = order;
  clusters_ = clusters;
  if (order_.size() != usage_.size()) {
    order_.resize(usage_.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int64_t>(i);
  }
  rebuild();
}

void UsageChart::setHighlightedExperts(const std::vector<int64_t>& experts) {
  highlighted_ = experts;
  rebuild();
}

void UsageChart::rebuild() {
  clearPlottables();
  const size_t n = usage_.size();
  const bool dark = isDarkPalette(palette());
  std::map<int64_t, QCPBars*> bars;  // one bar series per cluster colour
  double top = 0;
  for (size_t p = 0; p < n; ++p) {
    const int64_t e = order_[p];
    const int64_t c = clusters_.size() == n ? clusters_[static_cast<size_t>(e)] : -1;
    QCPBars*& b = bars[c];
    if (!b) {
      b = new QCPBars(xAxis, yAxis);
      const QColor color = c >= 0 ? clusterColor(static_cast<int>(c), dark) : palette().color(QPalette::Highlight);
      b->setBrush(color);
      b->setPen(Qt::NoPen);
      b->setWidth(0.72);
      b->removeFromLegend();
    }
    b->addData(static_cast<double>(p), 100.0 * usage_[static_cast<size_t>(e)]);
    top = std::max(top, 100.0 * usage_[static_cast<size_t>(e)]);
  }
  if (!bars.empty()) {
    bars.begin()->second->setName(tr("usage frequency"));
    bars.begin()->second->addToLegend();
  }
  for (int64_t e : highlighted_) {
    for (size_t p = 0; p < n; ++p)
      if (order_[p] == e) {
        auto* mark = new QCPBars(xAxis, yAxis);
        mark->setBrush(Qt::NoBrush);
        mark->setPen(QPen(palette().color(QPalette::WindowText), 1.5));
        mark->setWidth(0.86);
        mark->addData(static_cast<double>(p), 100.0 * usage_[static_cast<size_t>(e)]);
        mark->removeFromLegend();
      }
  }
  if (reap_.size() == n && n > 0) {
    auto* line = new QCPGraph(xAxis, yAxis2);
    const QColor c = dark ? QColor(240, 240, 240) : QColor(40, 40, 40);
    line->setPen(QPen(c, 1.4));
    line->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, c, palette().color(QPalette::Base), 5));
    line->setName(tr("REAP score"));
    double reapTop = 0;
    for (size_t p = 0; p < n; ++p) {
      line->addData(static_cast<double>(p), reap_[static_cast<size_t>(order_[p])]);
      reapTop = std::max(reapTop, reap_[static_cast<size_t>(order_[p])]);
    }
    yAxis2->setRange(0, reapTop > 0 ? reapTop * 1.15 : 1);
  }
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  const size_t step = std::max<size_t>(1, (n + 31) / 32);
  for (size_t p = 0; p < n; p += step) ticker->addTick(static_cast<double>(p), QString::number(order_[p]));
  xAxis->setTicker(ticker);
  xAxis->setTickLabelRotation(n > 24 ? 90 : 0);
  xAxis->setRange(-0.6, static_cast<double>(n) - 0.4);
  yAxis->setRange(0, top > 0 ? top * 1.15 : 1);
  replot(QCustomPlot::rpQueuedReplot);
}

void UsageChart::mouseMoveEvent(QMouseEvent* event) {
  QCustomPlot::mouseMoveEvent(event);
  const int64_t p = std::llround(xAxis->pixelToCoord(event->position().x()));
  if (!axisRect()->rect().contains(event->position().toPoint()) || p < 0 || p >= static_cast<int64_t>(order_.size())) {
    QToolTip::hideText();
    return;
  }
  const int64_t e = order_[static_cast<size_t>(p)];
  QString text = tr("Expert %1").arg(e) + "\n" + tr("Usage: %1 %").arg(100.0 * usage_[static_cast<size_t>(e)], 0, 'f', 2);
  if (reap_.size() == usage_.size()) text += "\n" + tr("REAP score: %1").arg(reap_[static_cast<size_t>(e)], 0, 'g', 4);
  QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void UsageChart::changeEvent(QEvent* event) {
  QCustomPlot::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    applyPlotStyle(this);
    rebuild();
  } else if (event->type() == QEvent::LanguageChange) {
    yAxis->setLabel(tr("usage %"));
    yAxis2->setLabel(tr("REAP score"));
    xAxis->setLabel(tr("expert"));
    rebuild();  // legend names
  }
}

}  // namespace widgets
}  // namespace moe
