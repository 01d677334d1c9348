#include "core/analysis/store.h"

#include <filesystem>

#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/error.h"

using nlohmann::json;

namespace moe {
namespace {

const char* kFormat = "moescope-analysis";

std::string layerGroup(int j) { return "layers/" + std::to_string(j); }

void writeVector(h5::File& f, const std::string& name, const std::vector<double>& v) {
  f.write(name, v.data(), {static_cast<int64_t>(v.size())});
}

void writeMatrix(h5::File& f, const std::string& name, const Matrix& m) {
  if (!m.empty()) f.write(name, m.data.data(), {m.rows, m.cols});
}

Matrix readMatrix(const h5::File& f, const std::string& name) {
  if (!f.isDataset(name)) return {};
  auto a = f.readDouble(name);
  Matrix m;
  m.rows = a.shape.at(0);
  m.cols = a.shape.size() > 1 ? a.shape[1] : 1;
  m.data = std::move(a.data);
  return m;
}

}  // namespace

AnalysisStore AnalysisStore::create(const std::string& path, const AnalysisInfo& info) {
  AnalysisStore s(std::make_unique<h5::File>(path, h5::File::Mode::Create));
  h5::File& f = *s.file_;
  f.writeAttribute("/", "format", kFormat);
  f.writeAttribute("/", "version", static_cast<double>(kVersion));
  f.writeAttribute("/", "model_dir", info.modelDir);
  f.writeAttribute("/", "model_type", info.modelType);
  f.writeAttribute("/", "model_fingerprint", info.modelFingerprint);
  f.writeAttribute("/", "calibration_fingerprint", info.calibrationFingerprint);
  f.writeAttribute("/", "settings", info.settings.dump());
  f.createGroup("model");
  f.writeAttribute("model", "num_layers", static_cast<double>(info.numLayers));
  f.writeAttribute("model", "moe_layers", json(info.moeLayers).dump());
  f.writeAttribute("model", "dense_layers", json(info.denseLayers).dump());
  f.writeAttribute("model", "num_experts", static_cast<double>(info.numExperts));
  f.writeAttribute("model", "top_k", static_cast<double>(info.topK));
  f.writeAttribute("model", "hidden_size", static_cast<double>(info.hidden));
  if (!info.tokenIds.empty()) f.write("calibration/token_ids", info.tokenIds.data(), info.tokenShape);
  f.createGroup("layers");
  f.flush();
  s.info_ = info;
  return s;
}

AnalysisStore AnalysisStore::open(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error(ErrorKind::Io, path + ": no such analysis file");
  AnalysisStore s(std::make_unique<h5::File>(path, h5::File::Mode::Read));
  s.readInfo();
  return s;
}

AnalysisStore AnalysisStore::openForResume(const std::string& path, const std::string& modelFp,
                                           const std::string& calibFp) {
  {
    AnalysisStore probe = open(path);
    probe.checkFresh(modelFp, calibFp);
  }
  AnalysisStore s(std::make_unique<h5::File>(path, h5::File::Mode::ReadWrite));
  s.readInfo();
  return s;
}

void AnalysisStore::readInfo() {
  const h5::File& f = *file_;
  if (!f.hasAttribute("/", "format") || f.readStringAttribute("/", "format") != kFormat)
    throw Error(ErrorKind::Format, f.path() + ": not a MoEScope analysis file");
  const int version = static_cast<int>(f.readNumberAttribute("/", "version"));
  if (version > kVersion)
    throw Error(ErrorKind::Format, f.path() + ": written by a newer MoEScope (store version " +
                                       std::to_string(version) + ")");
  AnalysisInfo& i = info_;
  i.modelDir = f.readStringAttribute("/", "model_dir");
  i.modelType = f.readStringAttribute("/", "model_type");
  i.modelFingerprint = f.readStringAttribute("/", "model_fingerprint");
  i.calibrationFingerprint = f.readStringAttribute("/", "calibration_fingerprint");
  i.settings = json::parse(f.readStringAttribute("/", "settings"));
  i.numLayers = static_cast<int64_t>(f.readNumberAttribute("model", "num_layers"));
  i.moeLayers = json::parse(f.readStringAttribute("model", "moe_layers")).get<std::vector<int>>();
  i.denseLayers = json::parse(f.readStringAttribute("model", "dense_layers")).get<std::vector<int>>();
  i.numExperts = static_cast<int64_t>(f.readNumberAttribute("model", "num_experts"));
  i.topK = static_cast<int64_t>(f.readNumberAttribute("model", "top_k"));
  i.hidden = static_cast<int64_t>(f.readNumberAttribute("model", "hidden_size"));
  if (f.isDataset("calibration/token_ids")) {
    auto ids = f.readInt("calibration/token_ids");
    i.tokenShape = ids.shape;
    i.tokenIds = std::move(ids.data);
  }
}

void AnalysisStore::checkFresh(const std::string& modelFp, const std::string& calibFp) const {
  if (modelFp != info_.modelFingerprint)
    throw Error(ErrorKind::Stale, path() + " was computed for a different version of " + info_.modelDir +
                                      " (its config.json or weights changed since); run the analysis again");
  if (!calibFp.empty() && calibFp != info_.calibrationFingerprint)
    throw Error(ErrorKind::Stale, path() + " was computed on different calibration tokens; run the analysis "
                                           "again or choose the same calibration source and sizes");
}

bool AnalysisStore::hasLayer(int j) const {
  const std::string g = layerGroup(j);
  return file_->hasAttribute(g, "complete") && file_->readNumberAttribute(g, "complete") == 1.0;
}

std::vector<int> AnalysisStore::completedLayers() const {
  std::vector<int> done;
  for (size_t j = 0; j < info_.moeLayers.size(); ++j)
    if (hasLayer(static_cast<int>(j))) done.push_back(static_cast<int>(j));
  return done;
}

void AnalysisStore::writeLayer(const LayerStats& s) {
  h5::File& f = *file_;
  const std::string g = layerGroup(s.moeIndex);
  f.remove(g);  // a half-written layer from an interrupted run is replaced whole
  f.createGroup(g);
  f.writeAttribute(g, "layer", static_cast<double>(s.layer));
  f.writeAttribute(g, "prefix", s.prefix);
  f.writeAttribute(g, "num_experts", static_cast<double>(s.numExperts));
  f.writeAttribute(g, "top_k", static_cast<double>(s.topK));
  f.writeAttribute(g, "hidden_size", static_cast<double>(s.hidden));
  f.writeAttribute(g, "tokens", static_cast<double>(s.tokens));
  f.writeAttribute(g, "has_shared_expert", s.hasSharedExpert ? 1.0 : 0.0);
  f.writeAttribute(g, "weight_params_per_expert", static_cast<double>(s.weightParamsPerExpert));
  f.write(g + "/selection_counts", s.selectionCounts.data(), {static_cast<int64_t>(s.selectionCounts.size())});
  writeVector(f, g + "/usage_frequency", s.usageFrequency);
  writeVector(f, g + "/soft_usage", s.softUsage);
  writeVector(f, g + "/reap_score", s.reapScore);
  writeMatrix(f, g + "/expert_output_mean", s.expertOutputMean);
  writeMatrix(f, g + "/expert_output_mean_routed", s.expertOutputMeanRouted);
  writeMatrix(f, g + "/router_logit_gram", s.routerLogitGram);
  writeMatrix(f, g + "/weight_gram", s.weightGram);
  // Derived data for h5py users: every distance matrix and linkage MoEScope can show.
  for (Representation r : allRepresentations()) {
    for (const char* metric : {"euclidean", "cosine"}) {
      Matrix d;
      try {
        d = s.distances(r, metric);
      } catch (const Error&) {
        continue;  // that representation was not computed in this analysis
      }
      const std::string name = std::string(representationName(r)) + "_" + metric;
      writeMatrix(f, g + "/distance/" + name, d);
      if (s.numExperts < 2) continue;
      const CondensedMatrix condensed = condensedFromSquare(d.data.data(), d.rows);
      for (LinkageMethod m : {LinkageMethod::Single, LinkageMethod::Complete, LinkageMethod::Average,
                              LinkageMethod::Ward}) {
        const std::vector<double> z = linkage(condensed, m).toMatrix();
        f.write(g + "/linkage/" + name + "_" + linkageMethodName(m), z.data(), {s.numExperts - 1, 4});
      }
    }
  }
  f.writeAttribute(g, "complete", 1.0);
  f.flush();
}

LayerStats AnalysisStore::readLayer(int j) const {
  if (!hasLayer(j)) throw Error(ErrorKind::InvalidArgument, path() + ": MoE block " + std::to_string(j) + " has not been analysed");
  const h5::File& f = *file_;
  const std::string g = layerGroup(j);
  LayerStats s;
  s.moeIndex = j;
  s.layer = static_cast<int>(f.readNumberAttribute(g, "layer"));
  s.prefix = f.readStringAttribute(g, "prefix");
  s.numExperts = static_cast<int64_t>(f.readNumberAttribute(g, "num_experts"));
  s.topK = static_cast<int64_t>(f.readNumberAttribute(g, "top_k"));
  s.hidden = static_cast<int64_t>(f.readNumberAttribute(g, "hidden_size"));
  s.tokens = static_cast<int64_t>(f.readNumberAttribute(g, "tokens"));
  s.hasSharedExpert = f.readNumberAttribute(g, "has_shared_expert") != 0.0;
  s.weightParamsPerExpert = static_cast<int64_t>(f.readNumberAttribute(g, "weight_params_per_expert"));
  s.selectionCounts = f.readInt(g + "/selection_counts").data;
  s.usageFrequency = f.readDouble(g + "/usage_frequency").data;
  s.softUsage = f.readDouble(g + "/soft_usage").data;
  s.reapScore = f.readDouble(g + "/reap_score").data;
  s.expertOutputMean = readMatrix(f, g + "/expert_output_mean");
  s.expertOutputMeanRouted = readMatrix(f, g + "/expert_output_mean_routed");
  s.routerLogitGram = readMatrix(f, g + "/router_logit_gram");
  s.weightGram = readMatrix(f, g + "/weight_gram");
  return s;
}

}  // namespace moe
