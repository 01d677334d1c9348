#pragma once
// Figures (PNG, SVG, PDF) of any plot, and the data behind the views: distances (CSV), groups of
// every layer (JSON) and the current layer's dendrogram (Newick). Throw moe::Error(Io) on failure.
#include <QString>

class QCustomPlot;

namespace moe {
namespace gui {

class ExplorerDocument;

void saveFigure(QCustomPlot* plot, const QString& path);  // format from the suffix (png, svg, pdf)
void saveDistancesCsv(const ExplorerDocument& doc, int moeIndex, const QString& path);
void saveGroupsJson(const ExplorerDocument& doc, const QString& path);
void saveNewick(const ExplorerDocument& doc, int moeIndex, const QString& path);

}  // namespace gui
}  // namespace moe
