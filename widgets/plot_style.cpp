#include "widgets/plot_style.h"

#include <qcustomplot.h>

#include "widgets/cluster_palette.h"

namespace moe {
namespace widgets {

void styleAxis(QCPAxis* axis, const QCustomPlot* plot) {
  const QPalette& pal = plot->palette();
  const QColor text = pal.color(QPalette::WindowText);
  QColor grid = text;
  grid.setAlpha(isDarkPalette(pal) ? 40 : 28);
  QColor line = text;
  line.setAlpha(140);
  axis->setBasePen(QPen(line, 1));
  axis->setTickPen(QPen(line, 1));
  axis->setSubTickPen(QPen(line, 1));
  axis->setTickLabelColor(text);
  axis->setLabelColor(text);
  axis->setTickLabelFont(plot->font());
  QFont labelFont = plot->font();
  labelFont.setBold(false);
  axis->setLabelFont(labelFont);
  axis->grid()->setPen(QPen(grid, 1, Qt::SolidLine));
  axis->grid()->setSubGridVisible(false);
  axis->grid()->setZeroLinePen(Qt::NoPen);
}

void applyPlotStyle(QCustomPlot* plot) {
  const QPalette& pal = plot->palette();
  plot->setBackground(pal.brush(QPalette::Base));
  plot->axisRect()->setBackground(pal.brush(QPalette::Base));
  for (QCPAxis* axis : plot->axisRect()->axes()) styleAxis(axis, plot);
  plot->legend->setTextColor(pal.color(QPalette::WindowText));
  plot->legend->setFont(plot->font());
  plot->setAntialiasedElements(QCP::aePlottables | QCP::aeItems);
  plot->setNoAntialiasingOnDrag(true);
  // A replot marks the widget for the next paint instead of repainting it at once: one edit
  // replots five plots, and each immediate repaint was its own paint-and-flush of the window.
  plot->setPlottingHint(QCP::phImmediateRefresh, false);
}

QCPLayer* addPlanLayer(QCustomPlot* plot) {
  plot->addLayer(QStringLiteral("plan"), plot->layer(QStringLiteral("main")), QCustomPlot::limAbove);
  QCPLayer* layer = plot->layer(QStringLiteral("plan"));
  layer->setMode(QCPLayer::lmBuffered);
  return layer;
}

QCPColorGradient viridisGradient() {
  QCPColorGradient g;
  g.clearColorStops();
  const QRgb stops[] = {0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725};
  for (int i = 0; i < 10; ++i) g.setColorStopAt(i / 9.0, QColor::fromRgb(stops[i]));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  g.setNanHandling(QCPColorGradient::nhTransparent);
  return g;
}

}  // namespace widgets
}  // namespace moe
