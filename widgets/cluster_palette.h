#pragma once
// Cluster colours shared by every view (dendrogram, heatmap, layer table, usage chart), so that a
// cluster has the same colour everywhere. Every view builds a ClusterColoring from the same
// per-expert cluster labels and usage, which gives the same colours in every view.
//
// Why not one hue per cluster: at 128-512 experts K runs into the dozens or hundreds, and any
// palette cycled that far turns into look-alike hues. So at most kQualitativeColors clusters get a
// colour of a fixed, well separated qualitative palette (the largest ones by member count, then
// usage) and the rest are drawn in one grey, which the legend text states.
#include <QColor>
#include <QCoreApplication>
#include <QPalette>
#include <QString>
#include <cstdint>
#include <vector>

namespace moe {
namespace widgets {

// Size of the qualitative palette (minimum pairwise CIE76 distance about 38).
constexpr int kQualitativeColors = 12;

// Colour `rank` (0-based) of the qualitative palette; `rank` outside 0..kQualitativeColors-1 gives
// the grey of small clusters (never a cycled look-alike). `dark` picks lighter variants that read
// well on a dark background.
QColor clusterColor(int rank, bool dark = false);
// The grey of singletons and small clusters.
QColor smallClusterColor(bool dark = false);
// The pale grey of experts the plan drops (pruning strategies; label -1), lighter than the grey of
// small clusters, which stay in the model.
QColor droppedColor(bool dark = false);
// True when the palette's window colour is dark (system dark mode).
bool isDarkPalette(const QPalette& palette);
// Neutral colour for tree branches above the cut and other non-cluster elements.
QColor neutralColor(const QPalette& palette);

// Maps cluster labels to colours. Rule: when there are at most kQualitativeColors clusters, every
// cluster (singletons included) gets its own colour; otherwise the kQualitativeColors largest
// clusters of two or more members (by member count, then total usage, then label) get colours and
// the singletons and the smaller clusters are grey. Ranking uses counts and sums only, so any
// ordering of the same (cluster, usage) pairs gives the same colouring.
class ClusterColoring {
  Q_DECLARE_TR_FUNCTIONS(moe::widgets::ClusterColoring)

 public:
  ClusterColoring() = default;
  // clusters: label of each item (expert), >= 0, or -1 for an expert the plan drops (counted, not
  // ranked); usage: the items' usage in the same order, or empty.
  ClusterColoring(const std::vector<int64_t>& clusters, const std::vector<double>& usage);

  // Colour of cluster `label` (grey for unknown labels too, pale grey for a negative one: dropped).
  QColor color(int64_t label, bool dark = false) const;
  // Rank of `label` in the palette, -1 when it is grey.
  int rank(int64_t label) const;
  bool isGrey(int64_t label) const { return rank(label) < 0; }
  int64_t clusterCount() const { return static_cast<int64_t>(ranks_.size()); }
  int64_t memberCount(int64_t label) const;
  double usage(int64_t label) const;
  int64_t greySingletons() const { return greySingletons_; }
  int64_t greySmallClusters() const { return greySmall_; }
  int64_t dropped() const { return dropped_; }
  // "grey: 180 singletons, 20 small clusters · pale: 64 dropped" (translated), empty when nothing
  // is grey or pale.
  QString legendText() const;

 private:
  std::vector<int> ranks_;        // by label; -1 = grey
  std::vector<int64_t> counts_;   // by label
  std::vector<double> usage_;     // by label
  int64_t greySingletons_ = 0;
  int64_t greySmall_ = 0;
  int64_t dropped_ = 0;
};

}  // namespace widgets
}  // namespace moe
