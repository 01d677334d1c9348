#include "core/analysis/store.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/error.h"

using nlohmann::json;

namespace moe {
namespace {

const char* kFormat = "moescope-analysis";

std::string layerGroup(int j) { return "layers/" + std::to_string(j); }

// JSON text that never throws: invalid UTF-8 (e.g. in a calibration path) is replaced.
std::string jsonText(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void writeVector(h5::File& f, const std::string& name, const std::vector<double>& v) {
  f.write(name, v.data(), {static_cast<int64_t>(v.size())});
}

void writeMatrix(h5::File& f, const std::string& name, const Matrix& m) {
  if (!m.empty()) f.write(name, m.data.data(), {m.rows, m.cols});
}

// ---- validated reading: everything below throws Format naming the attribute or dataset ----

[[noreturn]] void malformed(const h5::File& f, const std::string& what) {
  throw Error(ErrorKind::Format, f.path() + ": " + what + " (damaged or hand-edited analysis store?)");
}

std::string attributeName(const std::string& object, const std::string& name) {
  return "attribute '" + name + "' on '/" + (object == "/" ? std::string() : object) + "'";
}

std::string numberText(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string shapeText(const h5::Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// An integer attribute: finite, integral and within [lo, hi] before it is converted.
int64_t readInteger(const h5::File& f, const std::string& object, const std::string& name, int64_t lo, int64_t hi) {
  const double v = f.readNumberAttribute(object, name);
  if (!std::isfinite(v) || v != std::floor(v) || v < static_cast<double>(lo) || v > static_cast<double>(hi))
    malformed(f, attributeName(object, name) + " must be an integer in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], got " + numberText(v));
  return static_cast<int64_t>(v);
}

json readJson(const h5::File& f, const std::string& object, const std::string& name) {
  json j = json::parse(f.readStringAttribute(object, name), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) malformed(f, attributeName(object, name) + " is not valid JSON");
  return j;
}

// A JSON list of distinct decoder layers in [0, numLayers), ascending.
std::vector<int> readLayerList(const h5::File& f, const std::string& object, const std::string& name,
                               int64_t numLayers) {
  const json j = readJson(f, object, name);
  const std::string what = attributeName(object, name);
  if (!j.is_array()) malformed(f, what + " must be a JSON list of decoder layers, got " + jsonText(j));
  std::vector<int> out;
  for (const auto& e : j) {
    if (!e.is_number_integer()) malformed(f, what + " must hold integers, got " + jsonText(e));
    const int64_t v = e.is_number_unsigned() && e.get<uint64_t>() > static_cast<uint64_t>(numLayers)
                          ? numLayers
                          : e.get<int64_t>();
    if (v < 0 || v >= numLayers)
      malformed(f, what + " names decoder layer " + jsonText(e) + ", outside [0, " + std::to_string(numLayers) + ")");
    if (!out.empty() && v <= out.back()) malformed(f, what + " must be strictly ascending, got " + jsonText(j));
    out.push_back(static_cast<int>(v));
  }
  return out;
}

// The types the readers of `settings` rely on (absent keys are allowed: older stores).
void checkSettings(const h5::File& f, const json& s) {
  const std::string what = attributeName("/", "settings");
  if (!s.is_object()) malformed(f, what + " must be a JSON object, got " + jsonText(s));
  for (const char* key : {"calibration", "statistic", "dtype", "field", "tokenizer"})
    if (s.contains(key) && !s[key].is_string()) malformed(f, what + ": '" + key + "' must be a string");
  for (const char* key : {"sequences", "length", "seed"})
    if (s.contains(key) && !s[key].is_number_integer()) malformed(f, what + ": '" + key + "' must be an integer");
  if (s.contains("random_windows") && !s["random_windows"].is_boolean())
    malformed(f, what + ": 'random_windows' must be true or false");
}

// {"config": str, "files": [{"name": str, "size": int, "mtime": int, "header": str, "sample": str}]}
void checkManifest(const h5::File& f, const json& m) {
  const std::string what = attributeName("/", "model_manifest");
  auto bad = [&](const std::string& why) { malformed(f, what + ": " + why); };
  if (!m.is_object() || !m.contains("config") || !m["config"].is_string() || !m.contains("files") ||
      !m["files"].is_array())
    bad("expected an object with 'config' and 'files'");
  for (const auto& file : m["files"]) {
    if (!file.is_object()) bad("every file entry must be an object");
    for (const char* key : {"name", "header", "sample"})
      if (!file.contains(key) || !file[key].is_string()) bad(std::string("file entry without a string '") + key + "'");
    for (const char* key : {"size", "mtime"})
      if (!file.contains(key) || !file[key].is_number_integer()) bad(std::string("file entry without an integer '") + key + "'");
  }
}

void checkShape(const h5::File& f, const std::string& name, const h5::Shape& got, const h5::Shape& want) {
  if (got != want) malformed(f, "dataset '" + name + "' has shape " + shapeText(got) + ", expected " + shapeText(want));
}

void checkFinite(const h5::File& f, const std::string& name, const std::vector<double>& v) {
  for (double x : v)
    if (!std::isfinite(x)) malformed(f, "dataset '" + name + "' holds a non-finite value (" + numberText(x) + ")");
}

std::vector<double> readVector(const h5::File& f, const std::string& name, int64_t n) {
  if (!f.isDataset(name)) malformed(f, "missing dataset '" + name + "'");
  auto a = f.readDouble(name);
  checkShape(f, name, a.shape, {n});
  checkFinite(f, name, a.data);
  return std::move(a.data);
}

// Optional [rows, cols] matrix: empty when absent, validated when present.
Matrix readMatrix(const h5::File& f, const std::string& name, int64_t rows, int64_t cols) {
  if (!f.exists(name)) return {};
  if (!f.isDataset(name)) malformed(f, "'" + name + "' is not a dataset");
  auto a = f.readDouble(name);
  checkShape(f, name, a.shape, {rows, cols});
  checkFinite(f, name, a.data);
  Matrix m;
  m.rows = rows;
  m.cols = cols;
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
  if (!info.modelManifest.is_null()) f.writeAttribute("/", "model_manifest", jsonText(info.modelManifest));
  f.writeAttribute("/", "calibration_fingerprint", info.calibrationFingerprint);
  f.writeAttribute("/", "settings", jsonText(info.settings));
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
  readerBoundary(path, [&] { s.readInfo(); });
  return s;
}

AnalysisStore AnalysisStore::openForAppend(const std::string& path) {
  open(path);  // validates before anything is opened for writing
  AnalysisStore s(std::make_unique<h5::File>(path, h5::File::Mode::ReadWrite));
  readerBoundary(path, [&] { s.readInfo(); });
  return s;
}

void AnalysisStore::readInfo() {
  const h5::File& f = *file_;
  if (!f.hasAttribute("/", "format") || f.readStringAttribute("/", "format") != kFormat)
    throw Error(ErrorKind::Format, f.path() + ": not a MoEScope analysis file");
  const double version = f.readNumberAttribute("/", "version");
  if (std::isfinite(version) && version > kVersion && version == std::floor(version))
    throw Error(ErrorKind::Format, f.path() + ": written by a newer MoEScope (store version " + numberText(version) +
                                       ", this one reads up to " + std::to_string(kVersion) + ")");
  readInteger(f, "/", "version", 1, kVersion);
  AnalysisInfo& i = info_;
  i.modelDir = f.readStringAttribute("/", "model_dir");
  i.modelType = f.readStringAttribute("/", "model_type");
  i.modelFingerprint = f.readStringAttribute("/", "model_fingerprint");
  if (f.hasAttribute("/", "model_manifest")) {
    i.modelManifest = readJson(f, "/", "model_manifest");
    checkManifest(f, i.modelManifest);
  }
  i.calibrationFingerprint = f.readStringAttribute("/", "calibration_fingerprint");
  i.settings = readJson(f, "/", "settings");
  checkSettings(f, i.settings);
  if (!f.exists("model")) malformed(f, "missing group '/model'");
  i.numLayers = readInteger(f, "model", "num_layers", 1, kMaxLayers);
  i.moeLayers = readLayerList(f, "model", "moe_layers", i.numLayers);
  i.denseLayers = readLayerList(f, "model", "dense_layers", i.numLayers);
  for (int l : i.denseLayers)
    if (std::find(i.moeLayers.begin(), i.moeLayers.end(), l) != i.moeLayers.end())
      malformed(f, "decoder layer " + std::to_string(l) + " is listed in both moe_layers and dense_layers of '/model'");
  i.numExperts = readInteger(f, "model", "num_experts", 1, kMaxExperts);
  i.topK = readInteger(f, "model", "top_k", 1, i.numExperts);
  i.hidden = readInteger(f, "model", "hidden_size", 1, kMaxHidden);
  const std::string ids = "calibration/token_ids";
  if (f.exists(ids)) {
    if (!f.isDataset(ids)) malformed(f, "'" + ids + "' is not a dataset");
    auto a = f.readInt(ids);
    if (a.shape.size() != 2 || a.shape[0] < 1 || a.shape[1] < 1)
      malformed(f, "dataset '" + ids + "' has shape " + shapeText(a.shape) + ", expected [sequences, length]");
    for (int64_t t : a.data)
      if (t < 0) malformed(f, "dataset '" + ids + "' holds a negative token id (" + std::to_string(t) + ")");
    i.tokenShape = a.shape;
    i.tokenIds = std::move(a.data);
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

std::string AnalysisStore::distanceDataset(int moeIndex, Representation representation, const std::string& metric) {
  return layerGroup(moeIndex) + "/distance/" + representationName(representation) + "_" + metric;
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
      if (d.rows != s.numExperts || d.cols != s.numExperts)
        throw Error(ErrorKind::Shape, path() + ", MoE block " + std::to_string(s.moeIndex) + ": " +
                                          representationName(r) + " distances are [" + std::to_string(d.rows) + ", " +
                                          std::to_string(d.cols) + "], expected [E, E] with E = " +
                                          std::to_string(s.numExperts));
      const std::string name = std::string(representationName(r)) + "_" + metric;
      writeMatrix(f, distanceDataset(s.moeIndex, r, metric), d);
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
  return readerBoundary(path(), [&] { return readLayerUnchecked(j); });
}

LayerStats AnalysisStore::readLayerUnchecked(int j) const {
  if (j < 0 || j >= static_cast<int>(info_.moeLayers.size()) || !hasLayer(j))
    throw Error(ErrorKind::InvalidArgument, path() + ": MoE block " + std::to_string(j) + " has not been analysed");
  const h5::File& f = *file_;
  const std::string g = layerGroup(j);
  const int64_t E = info_.numExperts, H = info_.hidden;
  LayerStats s;
  s.moeIndex = j;
  s.layer = static_cast<int>(readInteger(f, g, "layer", 0, info_.numLayers - 1));
  if (s.layer != info_.moeLayers[static_cast<size_t>(j)])
    malformed(f, attributeName(g, "layer") + " is " + std::to_string(s.layer) + ", but /model moe_layers puts MoE block " +
                     std::to_string(j) + " at decoder layer " + std::to_string(info_.moeLayers[static_cast<size_t>(j)]));
  s.prefix = f.readStringAttribute(g, "prefix");
  s.numExperts = readInteger(f, g, "num_experts", E, E);
  s.topK = readInteger(f, g, "top_k", 1, E);
  s.hidden = readInteger(f, g, "hidden_size", H, H);
  const int64_t tokens = static_cast<int64_t>(info_.tokenIds.size());
  s.tokens = tokens > 0 ? readInteger(f, g, "tokens", tokens, tokens) : readInteger(f, g, "tokens", 0, int64_t{1} << 48);
  s.hasSharedExpert = readInteger(f, g, "has_shared_expert", 0, 1) != 0;
  s.weightParamsPerExpert = readInteger(f, g, "weight_params_per_expert", 0, int64_t{1} << 48);
  const std::string counts = g + "/selection_counts";
  if (!f.isDataset(counts)) malformed(f, "missing dataset '" + counts + "'");
  auto c = f.readInt(counts);
  checkShape(f, counts, c.shape, {E});
  for (int64_t v : c.data)
    if (v < 0) malformed(f, "dataset '" + counts + "' holds a negative count (" + std::to_string(v) + ")");
  s.selectionCounts = std::move(c.data);
  s.usageFrequency = readVector(f, g + "/usage_frequency", E);
  s.softUsage = readVector(f, g + "/soft_usage", E);
  s.reapScore = readVector(f, g + "/reap_score", E);
  s.expertOutputMean = readMatrix(f, g + "/expert_output_mean", E, H);
  s.expertOutputMeanRouted = readMatrix(f, g + "/expert_output_mean_routed", E, H);
  s.routerLogitGram = readMatrix(f, g + "/router_logit_gram", E, E);
  s.weightGram = readMatrix(f, g + "/weight_gram", E, E);
  return s;
}

}  // namespace moe
