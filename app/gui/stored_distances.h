#pragma once
// The distance matrices an analysis store already holds (/layers/<j>/distance/<representation>_<metric>,
// written beside the statistics by core's AnalysisStore::writeLayer). The worker that opens a store
// reads them once, so the explorer never recomputes an [E, H] -> [E, E] distance matrix on the GUI
// thread. Plain data, no Qt.
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "core/analysis/layer_stats.h"

namespace moe {
namespace gui {

using DistanceKey = std::pair<moe::Representation, std::string>;  // metric: "euclidean" | "cosine"
using StoredDistances = std::map<DistanceKey, moe::Matrix>;

// Every distance matrix of MoE block `moeIndex` in the store at `storePath`. A dataset of another
// shape than [E, E] or with a non-finite value is a moe::Error(Format) naming it; a missing one is
// simply absent (the explorer then computes it, as for stores written before distances were kept).
// Whether the values are distances at all (zero diagonal, symmetric) is core's clustering check.
StoredDistances readStoredDistances(const std::string& storePath, int moeIndex, int64_t experts);

}  // namespace gui
}  // namespace moe
