#include "core/analysis/error_estimate.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace moe {

MergeErrorModel mergeErrorModel(const LayerStats& stats) {
  const Matrix& m = stats.expertOutputMean.empty() ? stats.expertOutputMeanRouted : stats.expertOutputMean;
  MergeErrorModel out;
  out.usage = stats.usageFrequency;
  if (m.empty()) return out;
  out.gram = Matrix(m.rows, m.rows);
  for (int64_t a = 0; a < m.rows; ++a)
    for (int64_t b = a; b < m.rows; ++b) {
      double dot = 0;
      const double* x = &m.data[static_cast<size_t>(a * m.cols)];
      const double* y = &m.data[static_cast<size_t>(b * m.cols)];
      for (int64_t c = 0; c < m.cols; ++c) dot += x[c] * y[c];
      out.gram(a, b) = out.gram(b, a) = dot;
    }
  return out;
}

double estimateMergeError(const MergeErrorModel& model, const std::vector<int64_t>& groups) {
  const Matrix& g = model.gram;
  if (g.empty()) return -1;
  const int64_t n = g.rows;
  if (static_cast<int64_t>(groups.size()) != n)
    throw Error(ErrorKind::InvalidArgument, "merge error estimate: " + std::to_string(groups.size()) +
                                                " group labels for a block of " + std::to_string(n) + " experts");
  int64_t k = 0;
  for (int64_t c : groups) {
    if (c < 0 || c >= n)
      throw Error(ErrorKind::InvalidArgument, "merge error estimate: group label " + std::to_string(c) +
                                                  " is outside 0.." + std::to_string(n - 1));
    k = std::max(k, c + 1);
  }
  const bool haveUsage = model.usage.size() == static_cast<size_t>(n);
  auto usage = [&](int64_t e) { return haveUsage ? model.usage[static_cast<size_t>(e)] : 1.0; };
  auto group = [&](int64_t e) { return static_cast<size_t>(groups[static_cast<size_t>(e)]); };
  // Member weights inside a group: usage share, a plain average for a group never routed to.
  std::vector<double> total(static_cast<size_t>(k), 0.0), count(static_cast<size_t>(k), 0.0);
  for (int64_t e = 0; e < n; ++e) {
    total[group(e)] += haveUsage ? usage(e) : 0.0;
    count[group(e)] += 1;
  }
  auto weight = [&](int64_t e) { return total[group(e)] > 0 ? usage(e) / total[group(e)] : 1.0 / count[group(e)]; };
  // ||m_e - c||^2 = G_ee - 2 sum_b w_b G_eb + sum_ab w_a w_b G_ab over the group's members. Only
  // pairs inside a group contribute, so the members are listed per group first: O(sum_g |g|^2),
  // about O(E) for the many small groups of a large K instead of O(E^2) for every grouping (the
  // explorer estimates every block at ~64 uniform K at 256-512 experts).
  std::vector<int64_t> start(static_cast<size_t>(k) + 1, 0), members(static_cast<size_t>(n));
  for (int64_t e = 0; e < n; ++e) ++start[group(e) + 1];
  for (size_t c = 0; c < static_cast<size_t>(k); ++c) start[c + 1] += start[c];
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t e = 0; e < n; ++e) members[static_cast<size_t>(fill[group(e)]++)] = e;
  }
  // cross_e = sum_{b in g(e)} w_b G_eb; the centre's squared norm is sum_{a in g} w_a cross_a.
  std::vector<double> cross(static_cast<size_t>(n), 0.0), centreNorm(static_cast<size_t>(k), 0.0);
  for (int64_t e = 0; e < n; ++e) {
    const size_t c = group(e);
    double sum = 0;
    for (int64_t i = start[c]; i < start[c + 1]; ++i) {
      const int64_t b = members[static_cast<size_t>(i)];
      sum += weight(b) * g(e, b);
    }
    cross[static_cast<size_t>(e)] = sum;
    centreNorm[c] += weight(e) * sum;
  }
  double num = 0, den = 0;
  for (int64_t e = 0; e < n; ++e) {
    num += usage(e) * std::max(0.0, g(e, e) - 2 * cross[static_cast<size_t>(e)] + centreNorm[group(e)]);
    den += usage(e) * g(e, e);
  }
  return den > 0 ? std::sqrt(num / den) : 0.0;
}

}  // namespace moe
