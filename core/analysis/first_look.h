#pragma once
// Time to the first dendrogram: `analyze --first-look N` first analyses only the first N
// calibration sequences into a store of its own (FILE.first-look.h5 beside FILE.h5), which the
// explorer can open at once, then runs the full analysis. How far the quick look can be trusted is
// measured, not assumed: the groups both give at a cut are compared layer by layer.
#include <string>
#include <vector>

#include "core/analysis/clustering.h"
#include "core/analysis/layer_stats.h"

namespace moe {

// "out.h5" -> "out.first-look.h5" (any other name: NAME + ".first-look.h5").
std::string firstLookPath(const std::string& out);

// Agreement of two clusterings of the same experts: the Rand index, the fraction of expert pairs
// that both put together or both put apart (1 for identical partitions, whatever the labels).
double randIndex(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

struct GroupAgreement {
  int blocks = 0;        // MoE blocks compared
  int identical = 0;     // blocks whose groups are the same partition
  double meanRand = 0;   // mean Rand index over the blocks
  std::vector<double> rand;  // per block, in the order given
};

// The groups of each block of `quick` and `full` (the same model; blocks matched by MoE index)
// with `choice`, both cut at K = max(1, E / 2), as the merge would at 50 % compression.
GroupAgreement compareGroupsAtHalf(const std::vector<LayerStats>& quick, const std::vector<LayerStats>& full,
                                   const ClusteringChoice& choice);

}  // namespace moe
