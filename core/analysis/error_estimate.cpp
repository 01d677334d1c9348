#include "core/analysis/error_estimate.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/cluster/tree.h"
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

std::vector<double> estimateMergeErrorByK(const MergeErrorModel& model, const Linkage& tree) {
  const Matrix& g = model.gram;
  const int64_t n = g.rows;
  if (g.empty()) return std::vector<double>(static_cast<size_t>(tree.n) + 1, -1.0);
  if (tree.n != n)
    throw Error(ErrorKind::InvalidArgument, "merge error estimate: a tree of " + std::to_string(tree.n) +
                                                " leaves for a block of " + std::to_string(n) + " experts");
  // With v_e the usage (1 when unknown) and V, D = sum v_e G_ee, S = sum_ab v_a v_b G_ab over a
  // group's members, the group's term of estimateMergeError's numerator is D - S / V (0 for a group
  // nobody routes to): the usage-weighted centre c = sum v_b m_b / V gives
  // sum_e v_e ||m_e - c||^2 = D - 2 S / V + V S / V^2. A merge of groups A and B adds the cross
  // sum 2 sum_{a in A, b in B} v_a v_b G_ab to S; every pair is visited once over the whole walk.
  const bool haveUsage = model.usage.size() == static_cast<size_t>(n);
  auto v = [&](int64_t e) { return haveUsage ? model.usage[static_cast<size_t>(e)] : 1.0; };
  struct Group {
    std::vector<int64_t> members;
    double V = 0, D = 0, S = 0;
    double term() const { return members.size() < 2 || V <= 0 ? 0.0 : std::max(0.0, D - S / V); }
  };
  std::vector<Group> groups(static_cast<size_t>(2 * n - 1));  // by node id: leaves, then merges
  double den = 0;
  for (int64_t e = 0; e < n; ++e) {
    Group& s = groups[static_cast<size_t>(e)];
    s.members = {e};
    s.V = v(e);
    s.D = v(e) * g(e, e);
    s.S = v(e) * v(e) * g(e, e);
    den += v(e) * g(e, e);
  }
  std::vector<double> out(static_cast<size_t>(n) + 1, -1.0);
  double num = 0;  // sum of the current groups' terms (every singleton's is 0)
  auto relative = [&] { return den > 0 ? std::sqrt(std::max(0.0, num) / den) : 0.0; };
  out[static_cast<size_t>(n)] = relative();
  // cutTreeSteps applies a merge only after its children, so the two groups it joins are the
  // ones held under its children's node ids.
  const std::vector<std::vector<int64_t>> steps = cutTreeSteps(tree);
  for (size_t step = 0; step < steps.size(); ++step) {
    for (int64_t i : steps[step]) {
      const Merge& m = tree.merges[static_cast<size_t>(i)];
      Group& a = groups[static_cast<size_t>(m.a)];
      Group& b = groups[static_cast<size_t>(m.b)];
      double cross = 0;
      for (int64_t x : a.members) {
        double row = 0;
        for (int64_t y : b.members) row += v(y) * g(x, y);
        cross += v(x) * row;
      }
      const int64_t id = n + i;
      Group& c = groups[static_cast<size_t>(id)];
      num -= a.term() + b.term();
      c.V = a.V + b.V;
      c.D = a.D + b.D;
      c.S = a.S + b.S + 2 * cross;
      c.members = std::move(a.members);
      c.members.insert(c.members.end(), b.members.begin(), b.members.end());
      b.members = {};
      num += c.term();
    }
    out[static_cast<size_t>(n) - step - 1] = relative();
  }
  return out;
}

}  // namespace moe
