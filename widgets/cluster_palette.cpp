#include "widgets/cluster_palette.h"

#include <array>
#include <cmath>

namespace moe {
namespace widgets {

QColor clusterColor(int index, bool dark) {
  // Tableau 10 plus two, ordered so neighbouring clusters contrast.
  static const std::array<QRgb, 12> kColors = {0x4e79a7, 0xf28e2b, 0x59a14f, 0xe15759, 0xb07aa1, 0x76b7b2,
                                                0xedc948, 0xff9da7, 0x9c755f, 0x2f4b7c, 0x8cd17d, 0xd37295};
  QColor c;
  if (index >= 0 && index < static_cast<int>(kColors.size())) {
    c = QColor::fromRgb(kColors[static_cast<size_t>(index)]);
  } else {
    const double hue = std::fmod(0.13 + index * 0.618033988749895, 1.0);
    c = QColor::fromHsvF(static_cast<float>(hue), 0.55f, 0.80f);
  }
  return dark ? c.lighter(125) : c;
}

bool isDarkPalette(const QPalette& palette) { return palette.color(QPalette::Window).lightness() < 128; }

QColor neutralColor(const QPalette& palette) {
  return isDarkPalette(palette) ? QColor(150, 150, 150) : QColor(110, 110, 110);
}

}  // namespace widgets
}  // namespace moe
