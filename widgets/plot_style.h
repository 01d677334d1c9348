#pragma once
// Look shared by every QCustomPlot view: colours from the system palette (light or dark), quiet
// grids, the application font. Call again when the palette changes.
class QCustomPlot;
class QCPAxis;
class QCPLayer;
class QCPColorGradient;

namespace moe {
namespace widgets {

void applyPlotStyle(QCustomPlot* plot);
void styleAxis(QCPAxis* axis, const QCustomPlot* plot);
// Viridis: perceptually uniform, colour-blind safe, dark for small values; the colour maps of the
// heatmap and the layer overview. Missing (NaN) cells are transparent.
QCPColorGradient viridisGradient();
// A layer named "plan" above "main", drawn into a buffer of its own: the items a plan edit moves
// (a marker per cut-line drag step) go there and are redrawn alone with QCPLayer::replot(),
// without the rest of the plot.
QCPLayer* addPlanLayer(QCustomPlot* plot);

}  // namespace widgets
}  // namespace moe
