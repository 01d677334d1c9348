#include "widgets/cluster_palette.h"

#include <QCoreApplication>
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace moe {
namespace widgets {

QColor clusterColor(int rank, bool dark) {
  // Chosen by farthest-point selection in CIELAB from the Tableau, Kelly, ColorBrewer and Trubetskoy
  // palettes, keeping chroma > 30 (far from the grey of small clusters) and lightness 35..80 (legible
  // on light and dark backgrounds): every pair differs by at least 37 CIE76 units.
  static const std::array<QRgb, kQualitativeColors> kColors = {0x1f77b4, 0xff7f00, 0x2ca02c, 0xbe0032,
                                                               0xf032e6, 0x42d4f4, 0xbcbd22, 0xa6761d,
                                                               0x4363d8, 0x1b9e77, 0xe377c2, 0xf99379};
  // Dark backgrounds: only the three darkest (CIELAB L < 50) are lightened (HSV value x 1.25);
  // lightening all of them would bring orange and brown within 17 units of each other.
  static const std::array<QRgb, kQualitativeColors> kDarkColors = {0x2795e1, 0xff7f00, 0x2ca02c, 0xee003f,
                                                                   0xf032e6, 0x42d4f4, 0xbcbd22, 0xa6761d,
                                                                   0x5e81ff, 0x1b9e77, 0xe377c2, 0xf99379};
  if (rank < 0 || rank >= kQualitativeColors) return smallClusterColor(dark);
  return QColor::fromRgb((dark ? kDarkColors : kColors)[static_cast<size_t>(rank)]);
}

QColor smallClusterColor(bool dark) { return dark ? QColor(105, 105, 105) : QColor(178, 178, 178); }

QColor droppedColor(bool dark) { return dark ? QColor(62, 62, 62) : QColor(226, 226, 226); }

bool isDarkPalette(const QPalette& palette) { return palette.color(QPalette::Window).lightness() < 128; }

QColor neutralColor(const QPalette& palette) {
  return isDarkPalette(palette) ? QColor(150, 150, 150) : QColor(110, 110, 110);
}

ClusterColoring::ClusterColoring(const std::vector<int64_t>& clusters, const std::vector<double>& usage) {
  int64_t labels = 0;
  for (int64_t c : clusters) labels = std::max(labels, c + 1);
  counts_.assign(static_cast<size_t>(labels), 0);
  usage_.assign(static_cast<size_t>(labels), 0.0);
  for (size_t i = 0; i < clusters.size(); ++i) {
    if (clusters[i] < 0) {
      ++dropped_;
      continue;
    }
    ++counts_[static_cast<size_t>(clusters[i])];
    if (usage.size() == clusters.size()) usage_[static_cast<size_t>(clusters[i])] += usage[i];
  }
  std::vector<int64_t> present;
  for (int64_t c = 0; c < labels; ++c)
    if (counts_[static_cast<size_t>(c)] > 0) present.push_back(c);
  ranks_.assign(static_cast<size_t>(labels), -1);
  const bool colourAll = static_cast<int64_t>(present.size()) <= kQualitativeColors;
  std::vector<int64_t> ranked;
  for (int64_t c : present)
    if (colourAll || counts_[static_cast<size_t>(c)] > 1) ranked.push_back(c);
  // Usage is compared with a relative tolerance: views sum it in different orders.
  auto before = [&](int64_t a, int64_t b) {
    const int64_t ca = counts_[static_cast<size_t>(a)], cb = counts_[static_cast<size_t>(b)];
    if (ca != cb) return ca > cb;
    const double ua = usage_[static_cast<size_t>(a)], ub = usage_[static_cast<size_t>(b)];
    if (std::abs(ua - ub) > 1e-9 * std::max(std::abs(ua), std::abs(ub))) return ua > ub;
    return a < b;
  };
  std::sort(ranked.begin(), ranked.end(), before);
  for (size_t r = 0; r < ranked.size() && r < static_cast<size_t>(kQualitativeColors); ++r)
    ranks_[static_cast<size_t>(ranked[r])] = static_cast<int>(r);
  for (int64_t c : present) {
    if (ranks_[static_cast<size_t>(c)] >= 0) continue;
    if (counts_[static_cast<size_t>(c)] == 1) ++greySingletons_;
    else ++greySmall_;
  }
}

int ClusterColoring::rank(int64_t label) const {
  return label >= 0 && label < static_cast<int64_t>(ranks_.size()) ? ranks_[static_cast<size_t>(label)] : -1;
}

QColor ClusterColoring::color(int64_t label, bool dark) const {
  return label < 0 ? droppedColor(dark) : clusterColor(rank(label), dark);
}

int64_t ClusterColoring::memberCount(int64_t label) const {
  return label >= 0 && label < static_cast<int64_t>(counts_.size()) ? counts_[static_cast<size_t>(label)] : 0;
}

double ClusterColoring::usage(int64_t label) const {
  return label >= 0 && label < static_cast<int64_t>(usage_.size()) ? usage_[static_cast<size_t>(label)] : 0.0;
}

QString ClusterColoring::legendText() const {
  QStringList parts, legend;
  if (greySingletons_ > 0) parts << tr("%n singletons", nullptr, static_cast<int>(greySingletons_));
  if (greySmall_ > 0) parts << tr("%n small clusters", nullptr, static_cast<int>(greySmall_));
  if (!parts.isEmpty()) legend << tr("grey: %1").arg(parts.join(", "));
  if (dropped_ > 0) legend << tr("pale: %n dropped", nullptr, static_cast<int>(dropped_));
  return legend.join(QString::fromUtf8(" \u00b7 "));
}

}  // namespace widgets
}  // namespace moe
