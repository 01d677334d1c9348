#pragma once
// The distance matrices an analysis store already holds (/layers/<j>/distance/<representation>_<metric>,
// written beside the statistics by core's AnalysisStore::writeLayer), so the explorer never
// recomputes an [E, H] -> [E, E] distance matrix on the GUI thread. The worker that opens a store
// reads the first plan's; the others are read when a plan first uses them (all eight of 60 blocks
// of 512 experts would take 1 GB). Plain data, no Qt.
#include <cstdint>
#include <map>
#include <optional>
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
// Whether the store holds block `moeIndex`'s distances under `representation` for both metrics.
bool holdsStoredDistances(const std::string& storePath, int moeIndex, moe::Representation representation);
// One of them, with the same checks; nullopt when the store does not hold it.
std::optional<moe::Matrix> readStoredDistance(const std::string& storePath, int moeIndex, int64_t experts,
                                              const DistanceKey& key);

}  // namespace gui
}  // namespace moe
