#pragma once
// Instant plan metrics for the explorer (plain data, no torch):
//  - memory after merging, from the checkpoint's tensor sizes (AnalysisData::memory);
//  - a reconstruction-error proxy per MoE block: the usage-weighted relative error of replacing
//    each expert's mean output (over the calibration tokens) by its group's frequency-weighted
//    mean output, computed from the Gram matrix of the mean outputs so that any cut costs O(E^2).
#include <cstdint>
#include <vector>

#include "app/gui/analysis_data.h"

namespace moe {
namespace gui {

class ErrorProxy {
 public:
  ErrorProxy() = default;
  explicit ErrorProxy(const AnalysisData& data);  // O(E^2 H) per block, once
  bool available() const { return !gram_.empty(); }
  // Relative error of block j when experts are grouped by `clusters` (labels in [0, K)).
  double layerError(int j, const std::vector<int64_t>& clusters) const;

 private:
  std::vector<moe::Matrix> gram_;          // per block: M M^T of the mean expert outputs
  std::vector<std::vector<double>> usage_;
};

// Bytes of the checkpoint after merging to k[j] experts per block (0 when unknown).
double memoryAfter(const AnalysisData& data, const std::vector<int64_t>& k);
// Bytes of decoder layer `layer` after merging its block j to kj experts.
double layerMemoryAfter(const AnalysisData& data, int j, int64_t kj);
// "12.3 MB", "4.56 GB".
std::string formatBytes(double bytes);

}  // namespace gui
}  // namespace moe
