#pragma once
// Cluster colours shared by every view (dendrogram, heatmap, layer table, usage chart), so that
// cluster i has the same colour everywhere. Clusters are numbered in dendrogram leaf order.
#include <QColor>
#include <QPalette>

namespace moe {
namespace widgets {

// Colour of cluster `index` (0-based); distinct qualitative colours first, then golden-angle hues.
// `dark` picks lighter variants that read well on a dark background.
QColor clusterColor(int index, bool dark = false);
// True when the palette's window colour is dark (system dark mode).
bool isDarkPalette(const QPalette& palette);
// Neutral colour for tree branches above the cut and other non-cluster elements.
QColor neutralColor(const QPalette& palette);

}  // namespace widgets
}  // namespace moe
