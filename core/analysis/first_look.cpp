#include "core/analysis/first_look.h"

#include <algorithm>

#include "core/cluster/tree.h"
#include "core/error.h"

namespace moe {

std::string firstLookPath(const std::string& out) {
  const std::string ext = ".h5";
  if (out.size() > ext.size() && out.compare(out.size() - ext.size(), ext.size(), ext) == 0)
    return out.substr(0, out.size() - ext.size()) + ".first-look.h5";
  return out + ".first-look.h5";
}

double randIndex(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() != b.size())
    throw Error(ErrorKind::InvalidArgument, "Rand index of partitions of " + std::to_string(a.size()) + " and " +
                                                std::to_string(b.size()) + " experts");
  const size_t n = a.size();
  if (n < 2) return 1.0;
  size_t agree = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) agree += ((a[i] == a[j]) == (b[i] == b[j])) ? 1 : 0;
  return static_cast<double>(agree) / static_cast<double>(n * (n - 1) / 2);
}

GroupAgreement compareGroupsAtHalf(const std::vector<LayerStats>& quick, const std::vector<LayerStats>& full,
                                   const ClusteringChoice& choice) {
  GroupAgreement g;
  for (const LayerStats& f : full) {
    auto q = std::find_if(quick.begin(), quick.end(), [&](const LayerStats& s) { return s.moeIndex == f.moeIndex; });
    if (q == quick.end()) continue;
    if (q->numExperts != f.numExperts)
      throw Error(ErrorKind::InvalidArgument, "MoE block " + std::to_string(f.moeIndex) + " has " +
                                                  std::to_string(q->numExperts) + " experts in the first look and " +
                                                  std::to_string(f.numExperts) + " in the full analysis");
    const int64_t k = std::max<int64_t>(1, f.numExperts / 2);
    const std::vector<int64_t> a = cutTree(buildLayerTree(*q, choice).linkage, k);
    const std::vector<int64_t> b = cutTree(buildLayerTree(f, choice).linkage, k);
    const double r = randIndex(a, b);
    g.rand.push_back(r);
    g.identical += canonicalLabels(a) == canonicalLabels(b) ? 1 : 0;
    ++g.blocks;
  }
  double sum = 0;
  for (double r : g.rand) sum += r;
  g.meanRand = g.blocks ? sum / g.blocks : 0.0;
  return g;
}

}  // namespace moe
