#pragma once
// Instant plan metrics for the explorer (plain data, no torch): memory after merging, from the
// checkpoint's tensor sizes (AnalysisData::memory). The error estimate shown until exact errors
// arrive is core's (core/analysis/error_estimate.h).
#include <cstdint>
#include <vector>

#include "app/gui/analysis_data.h"

namespace moe {
namespace gui {

// Bytes of the checkpoint after merging to k[j] experts per block (0 when unknown).
double memoryAfter(const AnalysisData& data, const std::vector<int64_t>& k);
// Bytes of decoder layer `layer` after merging its block j to kj experts.
double layerMemoryAfter(const AnalysisData& data, int j, int64_t kj);
// "12.3 MB", "4.56 GB".
std::string formatBytes(double bytes);

}  // namespace gui
}  // namespace moe
