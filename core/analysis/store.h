#pragma once
// The analysis store: one HDF5 file with everything an analysis produced, laid out for h5py and
// HDFView users as well as for MoEScope (schema in docs/analysis-store.md). Layers are written
// as they finish, so an interrupted analysis keeps them and resumes; whether a store still
// matches its model is decided by core/analysis/freshness.h, whether a run may resume it by
// core/analysis/resume.h.
//
// The file is not trusted: every reader validates ranks, shapes (against E, the hidden size and
// the token count), integer attributes (finite, integral, in range) and JSON attributes, and
// throws only moe::Error (Format, naming the dataset or attribute and what was expected).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/analysis/layer_stats.h"
#include "core/io/h5file.h"
#include "core/limits.h"

namespace moe {

struct AnalysisInfo {
  std::string modelDir;
  std::string modelType;
  std::string modelFingerprint;
  nlohmann::json modelManifest;  // per-file summary behind the fingerprint (null in version-1 stores)
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
  // 2: per-file model manifest, token shape in the calibration fingerprint, validated reading.
  static constexpr int kVersion = 2;
  // Sanity limits of a readable store (core/limits.h): anything larger is a damaged or hand-made file.
  static constexpr int64_t kMaxExperts = limits::kMaxExperts;
  static constexpr int64_t kMaxLayers = limits::kMaxLayers;
  static constexpr int64_t kMaxHidden = limits::kMaxConfigInteger;

  // Creates (truncating) a store for a new analysis.
  static AnalysisStore create(const std::string& path, const AnalysisInfo& info);
  // Opens an existing store for reading. Throws Io when it cannot be opened, Format when it is not
  // a (well-formed) MoEScope analysis.
  static AnalysisStore open(const std::string& path);
  // Opens an existing store for appending layers. Whether a run may resume it is decided by
  // resume.h (openAnalysisStoreForRun), not here.
  static AnalysisStore openForAppend(const std::string& path);

  const std::string& path() const { return file_->path(); }
  const AnalysisInfo& info() const { return info_; }
  // Throws Stale when the model (or, when given, the calibration) fingerprint differs.
  void checkFresh(const std::string& modelFingerprint, const std::string& calibrationFingerprint = "") const;

  bool hasLayer(int moeIndex) const;
  std::vector<int> completedLayers() const;
  bool isComplete() const { return completedLayers().size() == info_.moeLayers.size(); }
  // Throws InvalidArgument for a block that is not analysed, Format when the stored block is malformed.
  LayerStats readLayer(int moeIndex) const;
  // Writes a layer's statistics, its distance matrices and linkages, then marks it complete.
  void writeLayer(const LayerStats& stats);
  // Where writeLayer puts block `moeIndex`'s distance matrix of `representation` under `metric`
  // ("euclidean" | "cosine"): the one spelling of the name, for readers of stored distances.
  static std::string distanceDataset(int moeIndex, Representation representation, const std::string& metric);

 private:
  explicit AnalysisStore(std::unique_ptr<h5::File> file) : file_(std::move(file)) {}
  void readInfo();
  LayerStats readLayerUnchecked(int moeIndex) const;  // readLayer without the exception boundary
  std::unique_ptr<h5::File> file_;
  AnalysisInfo info_;
};

}  // namespace moe
