#pragma once
// Look shared by every QCustomPlot view: colours from the system palette (light or dark), quiet
// grids, the application font. Call again when the palette changes.
class QCustomPlot;
class QCPAxis;

namespace moe {
namespace widgets {

void applyPlotStyle(QCustomPlot* plot);
void styleAxis(QCPAxis* axis, const QCustomPlot* plot);

}  // namespace widgets
}  // namespace moe
