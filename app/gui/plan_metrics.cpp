#include "app/gui/plan_metrics.h"

#include <cmath>
#include <cstdio>

namespace moe {
namespace gui {

double layerMemoryAfter(const AnalysisData& data, int j, int64_t kj) {
  const MemoryModel& m = data.memory;
  if (!m.known || j < 0 || j >= data.numMoeLayers()) return 0;
  const auto& s = data.layers[static_cast<size_t>(j)];
  return m.layerBytes[static_cast<size_t>(s.layer)] -
         static_cast<double>(s.numExperts - kj) * m.bytesPerExpert[static_cast<size_t>(j)];
}

double memoryAfter(const AnalysisData& data, const std::vector<int64_t>& k) {
  const MemoryModel& m = data.memory;
  if (!m.known) return 0;
  double bytes = m.totalBytes;
  for (int j = 0; j < data.numMoeLayers() && j < static_cast<int>(k.size()); ++j)
    bytes -= static_cast<double>(data.layers[static_cast<size_t>(j)].numExperts - k[static_cast<size_t>(j)]) *
             m.bytesPerExpert[static_cast<size_t>(j)];
  return bytes;
}

std::string formatBytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) bytes /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, bytes >= 100 || u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
  return buf;
}

}  // namespace gui
}  // namespace moe
