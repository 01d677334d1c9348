#pragma once
// The distance matrices an analysis store already holds (/layers/<j>/distance/<representation>_<metric>,
// written beside the statistics by core's AnalysisStore::writeLayer), so the explorer never
// recomputes an [E, H] -> [E, E] distance matrix on the GUI thread. The worker that opens a store
// reads the first plan's; the others are read when a plan first uses them, and dropped when the
// plan leaves them (all eight of 60 blocks of 512 experts would take 1 GB). Plain data, no Qt.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "core/analysis/layer_stats.h"

namespace moe {
namespace gui {

using DistanceKey = std::pair<moe::Representation, std::string>;  // metric: "euclidean" | "cosine"
using StoredDistances = std::map<DistanceKey, moe::Matrix>;

// Block `moeIndex`'s distance matrix under `key`, nullopt when the store does not hold it (the
// explorer then computes it, as for stores written before distances were kept). A dataset of
// another shape than [E, E] or with a non-finite value is a moe::Error(Format) naming it. Whether
// the values are distances at all (zero diagonal, symmetric) is core's clustering check. Read into
// `storage` where it is large enough (a buffer recycled from a dropped matrix).
std::optional<moe::Matrix> readStoredDistance(const std::string& storePath, int moeIndex, int64_t experts,
                                              const DistanceKey& key, std::vector<double>&& storage = {});
// The representations whose distances the store holds for block `moeIndex` under both metrics.
std::set<moe::Representation> representationsWithStoredDistances(const std::string& storePath, int moeIndex);

}  // namespace gui
}  // namespace moe
