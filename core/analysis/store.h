#pragma once
// The analysis store: one HDF5 file with everything an analysis produced, laid out for h5py and
// HDFView users as well as for MoEScope (schema in docs/analysis-store.md). Layers are written
// as they finish, so an interrupted analysis keeps them and resumes; a store whose model or
// calibration fingerprint no longer matches is refused as stale.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/analysis/layer_stats.h"
#include "core/io/h5file.h"

namespace moe {

struct AnalysisInfo {
  std::string modelDir;
  std::string modelType;
  std::string modelFingerprint;
  std::string calibrationFingerprint;
  nlohmann::json settings = nlohmann::json::object();  // calibration source, sizes, statistic, dtype ...
  int64_t numLayers = 0;
  std::vector<int> moeLayers;    // decoder layer of the j-th MoE block
  std::vector<int> denseLayers;  // decoder layers without routed experts (never clustered)
  int64_t numExperts = 0, topK = 0, hidden = 0;
  std::vector<int64_t> tokenShape;  // [sequences, length]
  std::vector<int64_t> tokenIds;    // the calibration tokens themselves
};

class AnalysisStore {
 public:
  static constexpr int kVersion = 1;

  // Creates (truncating) a store for a new analysis.
  static AnalysisStore create(const std::string& path, const AnalysisInfo& info);
  // Opens an existing store for reading. Throws Format when it is not a MoEScope analysis.
  static AnalysisStore open(const std::string& path);
  // Opens for appending layers, after checking it belongs to this model and calibration
  // (throws Stale naming what changed).
  static AnalysisStore openForResume(const std::string& path, const std::string& modelFingerprint,
                                     const std::string& calibrationFingerprint);

  const std::string& path() const { return file_->path(); }
  const AnalysisInfo& info() const { return info_; }
  // Throws Stale when the model (or, when given, the calibration) fingerprint differs.
  void checkFresh(const std::string& modelFingerprint, const std::string& calibrationFingerprint = "") const;

  bool hasLayer(int moeIndex) const;
  std::vector<int> completedLayers() const;
  bool isComplete() const { return completedLayers().size() == info_.moeLayers.size(); }
  LayerStats readLayer(int moeIndex) const;
  // Writes a layer's statistics, its distance matrices and linkages, then marks it complete.
  void writeLayer(const LayerStats& stats);

 private:
  explicit AnalysisStore(std::unique_ptr<h5::File> file) : file_(std::move(file)) {}
  void readInfo();
  std::unique_ptr<h5::File> file_;
  AnalysisInfo info_;
};

}  // namespace moe
