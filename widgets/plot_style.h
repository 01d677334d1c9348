#pragma once
// Look shared by every QCustomPlot view: colours from the system palette (light or dark), quiet
// grids, the application font. Call again when the palette changes.
class QCustomPlot;
class QCPAxis;
class QCPColorGradient;

namespace moe {
namespace widgets {

void applyPlotStyle(QCustomPlot* plot);
void styleAxis(QCPAxis* axis, const QCustomPlot* plot);
// Viridis: perceptually uniform, colour-blind safe, dark for small values; the colour maps of the
// heatmap and the layer overview. Missing (NaN) cells are transparent.
QCPColorGradient viridisGradient();

}  // namespace widgets
}  // namespace moe
