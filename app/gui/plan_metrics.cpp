#include "app/gui/plan_metrics.h"

#include <cmath>
#include <cstdio>

namespace moe {
namespace gui {

ErrorProxy::ErrorProxy(const AnalysisData& data) {
  for (const auto& s : data.layers) {
    const moe::Matrix& m = s.expertOutputMean.empty() ? s.expertOutputMeanRouted : s.expertOutputMean;
    moe::Matrix g(m.rows, m.rows);
    for (int64_t a = 0; a < m.rows; ++a)
      for (int64_t b = a; b < m.rows; ++b) {
        double dot = 0;
        const double* x = &m.data[static_cast<size_t>(a * m.cols)];
        const double* y = &m.data[static_cast<size_t>(b * m.cols)];
        for (int64_t c = 0; c < m.cols; ++c) dot += x[c] * y[c];
        g(a, b) = g(b, a) = dot;
      }
    gram_.push_back(std::move(g));
    usage_.push_back(s.usageFrequency);
  }
  for (const auto& g : gram_)
    if (g.empty()) gram_.clear();
}

double ErrorProxy::layerError(int j, const std::vector<int64_t>& clusters) const {
  if (!available() || j < 0 || j >= static_cast<int>(gram_.size())) return -1;
  const moe::Matrix& g = gram_[static_cast<size_t>(j)];
  const std::vector<double>& u = usage_[static_cast<size_t>(j)];
  const int64_t n = g.rows;
  if (static_cast<int64_t>(clusters.size()) != n) return -1;
  int64_t k = 0;
  for (int64_t c : clusters) k = std::max(k, c + 1);
  // Member weights: usage frequency (plain average for groups never used).
  std::vector<double> total(static_cast<size_t>(k), 0.0), count(static_cast<size_t>(k), 0.0);
  for (int64_t e = 0; e < n; ++e) {
    total[static_cast<size_t>(clusters[static_cast<size_t>(e)])] += u.size() == static_cast<size_t>(n) ? u[static_cast<size_t>(e)] : 0;
    count[static_cast<size_t>(clusters[static_cast<size_t>(e)])] += 1;
  }
  auto weight = [&](int64_t e) {
    const size_t c = static_cast<size_t>(clusters[static_cast<size_t>(e)]);
    return total[c] > 0 ? u[static_cast<size_t>(e)] / total[c] : 1.0 / count[c];
  };
  // ||m_e - c||^2 = G_ee - 2 sum_b w_b G_eb + sum_ab w_a w_b G_ab over the group's members.
  std::vector<double> self(static_cast<size_t>(k), 0.0);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b)
      if (clusters[static_cast<size_t>(a)] == clusters[static_cast<size_t>(b)])
        self[static_cast<size_t>(clusters[static_cast<size_t>(a)])] += weight(a) * weight(b) * g(a, b);
  // Importance of each expert in the error: its usage (uniform when no usage is known).
  double num = 0, den = 0;
  for (int64_t e = 0; e < n; ++e) {
    const double imp = u.size() == static_cast<size_t>(n) ? u[static_cast<size_t>(e)] : 1.0;
    double cross = 0;
    for (int64_t b = 0; b < n; ++b)
      if (clusters[static_cast<size_t>(b)] == clusters[static_cast<size_t>(e)]) cross += weight(b) * g(e, b);
    num += imp * std::max(0.0, g(e, e) - 2 * cross + self[static_cast<size_t>(clusters[static_cast<size_t>(e)])]);
    den += imp * g(e, e);
  }
  return den > 0 ? std::sqrt(num / den) : 0.0;
}

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
