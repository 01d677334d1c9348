#include "core/merge/plan.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include "core/error.h"
#include "core/limits.h"

using nlohmann::json;

namespace moe {
namespace {

std::string blockName(int moeIndex) { return "MoE block " + std::to_string(moeIndex); }

Error invalid(const std::string& msg) { return Error(ErrorKind::InvalidArgument, msg); }

// Groups implied by labels (largest + 1), without overflowing on an absurd label: validate() then
// reports the label as out of range.
int64_t groupsFromLabels(const std::vector<int64_t>& labels) {
  if (labels.empty()) return 0;
  const int64_t top = *std::max_element(labels.begin(), labels.end());
  return top >= limits::kMaxExperts ? limits::kMaxExperts + 1 : top + 1;
}

}  // namespace

const char* mergeStrategyName(MergeStrategy s) {
  switch (s) {
    case MergeStrategy::FrequencyWeighted: return "frequency";
    case MergeStrategy::Average: return "average";
    case MergeStrategy::Dominant: return "dominant";
    case MergeStrategy::PruneFrequency: return "f-prune";
    case MergeStrategy::PruneReap: return "reap";
    case MergeStrategy::Keep: return "keep";
    case MergeStrategy::Ream: return "ream";
  }
  return "?";
}

const std::vector<MergeStrategy>& mergeStrategies() {
  static const std::vector<MergeStrategy> all = {MergeStrategy::FrequencyWeighted, MergeStrategy::Average,
                                                 MergeStrategy::Dominant,          MergeStrategy::Ream,
                                                 MergeStrategy::PruneFrequency,    MergeStrategy::PruneReap,
                                                 MergeStrategy::Keep};
  return all;
}

MergeStrategy parseMergeStrategy(const std::string& name) {
  for (auto s : mergeStrategies())
    if (name == mergeStrategyName(s)) return s;
  throw invalid("unknown merge strategy '" + name +
                "' (choices: frequency, average, dominant, ream, f-prune, reap, keep)");
}

bool isPruneStrategy(MergeStrategy s) { return s == MergeStrategy::PruneFrequency || s == MergeStrategy::PruneReap; }

bool averagesMembers(MergeStrategy s) {
  return s == MergeStrategy::FrequencyWeighted || s == MergeStrategy::Average || s == MergeStrategy::Ream;
}

const char* routerModeName(RouterMode m) {
  switch (m) {
    case RouterMode::Average: return "average";
    case RouterMode::FrequencyWeighted: return "frequency";
    case RouterMode::LseFit: return "lse-fit";
    case RouterMode::SoftFit: return "soft-fit";
    case RouterMode::TiedFit: return "tied-fit";
  }
  return "?";
}

RouterMode parseRouterMode(const std::string& name) {
  for (auto m : {RouterMode::Average, RouterMode::FrequencyWeighted, RouterMode::LseFit, RouterMode::SoftFit,
                 RouterMode::TiedFit})
    if (name == routerModeName(m)) return m;
  throw invalid("unknown router option '" + name + "' (choices: average, frequency, lse-fit, soft-fit, tied-fit)");
}

bool isFittedRouter(RouterMode m) {
  return m == RouterMode::LseFit || m == RouterMode::SoftFit || m == RouterMode::TiedFit;
}

const char* exportFormatName(ExportFormat f) { return f == ExportFormat::Compact ? "compact" : "expert-map"; }

ExportFormat parseExportFormat(const std::string& name) {
  if (name == "compact") return ExportFormat::Compact;
  if (name == "expert-map") return ExportFormat::ExpertMap;
  throw invalid("unknown export format '" + name + "' (choices: compact, expert-map)");
}

std::vector<int64_t> LayerPlan::groupOf() const {
  if (strategy == MergeStrategy::Keep) {
    std::vector<int64_t> id(static_cast<size_t>(numExperts));
    for (int64_t e = 0; e < numExperts; ++e) id[static_cast<size_t>(e)] = e;
    return id;
  }
  if (isPruneStrategy(strategy)) {
    std::vector<int64_t> g(static_cast<size_t>(numExperts), -1);
    for (size_t k = 0; k < kept.size(); ++k) g[static_cast<size_t>(kept[k])] = static_cast<int64_t>(k);
    return g;
  }
  return labels;
}

std::vector<std::vector<int64_t>> LayerPlan::members() const {
  std::vector<std::vector<int64_t>> m(static_cast<size_t>(numGroups));
  const auto g = groupOf();
  for (int64_t e = 0; e < static_cast<int64_t>(g.size()); ++e)
    if (g[static_cast<size_t>(e)] >= 0) m[static_cast<size_t>(g[static_cast<size_t>(e)])].push_back(e);
  return m;
}

void LayerPlan::validate() const {
  const std::string b = blockName(moeIndex);
  if (numExperts <= 0) throw invalid(b + ": the plan gives no expert count");
  if (numExperts > limits::kMaxExperts)
    throw invalid(b + ": " + std::to_string(numExperts) + " experts, more than the limit of " +
                  std::to_string(limits::kMaxExperts));
  if (numGroups <= 0)
    throw invalid(b + ": K = " + std::to_string(numGroups) + "; a merge needs at least one group (K >= 1)");
  if (numGroups > numExperts)
    throw invalid(b + ": K = " + std::to_string(numGroups) + " is larger than its " + std::to_string(numExperts) +
                  " experts");
  auto checkFrequency = [&](const char* why) {
    if (static_cast<int64_t>(usageFrequency.size()) != numExperts)
      throw invalid(b + ": " + why + " needs usage_frequency with one value per expert (" +
                    std::to_string(numExperts) + "), got " + std::to_string(usageFrequency.size()));
    for (double f : usageFrequency)
      if (!(f >= 0.0) || !std::isfinite(f)) throw invalid(b + ": usage_frequency values must be finite and >= 0");
  };
  if (!usageFrequency.empty() && static_cast<int64_t>(usageFrequency.size()) != numExperts)
    checkFrequency("the plan");
  if (neuronPermutation && static_cast<int64_t>(neuronPermutation->size()) != numExperts)
    throw invalid(b + ": the attached neuron permutations cover " + std::to_string(neuronPermutation->size()) +
                  " experts, the block has " + std::to_string(numExperts));
  if (!scores.empty() && static_cast<int64_t>(scores.size()) != numExperts)
    throw invalid(b + ": scores must hold one value per expert (" + std::to_string(numExperts) + "), got " +
                  std::to_string(scores.size()));
  switch (strategy) {
    case MergeStrategy::Keep:
      if (numGroups != numExperts) throw invalid(b + ": an unmerged ('keep') block has K = E");
      return;
    case MergeStrategy::PruneFrequency:
    case MergeStrategy::PruneReap: {
      if (static_cast<int64_t>(kept.size()) != numGroups)
        throw invalid(b + ": K = " + std::to_string(numGroups) + " but " + std::to_string(kept.size()) +
                      " kept experts are listed");
      std::set<int64_t> seen;
      for (int64_t e : kept) {
        if (e < 0 || e >= numExperts)
          throw invalid(b + ": kept expert " + std::to_string(e) + " is out of range [0, " +
                        std::to_string(numExperts) + ")");
        if (!seen.insert(e).second) throw invalid(b + ": kept expert " + std::to_string(e) + " is listed twice");
      }
      return;
    }
    case MergeStrategy::FrequencyWeighted:
    case MergeStrategy::Average:
    case MergeStrategy::Dominant:
    case MergeStrategy::Ream: break;
  }
  if (static_cast<int64_t>(labels.size()) != numExperts)
    throw invalid(b + ": groups has " + std::to_string(labels.size()) + " labels but the block has " +
                  std::to_string(numExperts) + " experts");
  std::vector<int64_t> size(static_cast<size_t>(numGroups), 0);
  for (size_t e = 0; e < labels.size(); ++e) {
    if (labels[e] < 0 || labels[e] >= numGroups)
      throw invalid(b + ": expert " + std::to_string(e) + " has group label " + std::to_string(labels[e]) +
                    ", out of range [0, " + std::to_string(numGroups) + ")");
    ++size[static_cast<size_t>(labels[e])];
  }
  for (int64_t g = 0; g < numGroups; ++g)
    if (size[static_cast<size_t>(g)] == 0) throw invalid(b + ": group " + std::to_string(g) + " has no members");
  if (strategy == MergeStrategy::FrequencyWeighted) checkFrequency("the frequency-weighted merge");
  if (strategy == MergeStrategy::Ream) checkFrequency("the REAM merge");
  if (strategy == MergeStrategy::Ream && router == RouterMode::FrequencyWeighted)
    throw invalid(b + ": the REAM merge keeps its centroids' router rows; router 'frequency' does not apply (use "
                      "'average', the default, or a fitted router: lse-fit, soft-fit, tied-fit)");
  if (router == RouterMode::FrequencyWeighted) checkFrequency("the frequency-weighted router");
  if (strategy == MergeStrategy::Dominant || strategy == MergeStrategy::Ream) {
    const char* what = strategy == MergeStrategy::Ream ? "the REAM merge needs one centroid ('dominant')"
                                                       : "the dominant strategy needs one dominant member";
    if (static_cast<int64_t>(dominant.size()) != numGroups)
      throw invalid(b + ": " + what + " per group (" + std::to_string(numGroups) + "), got " +
                    std::to_string(dominant.size()));
    for (int64_t g = 0; g < numGroups; ++g) {
      const int64_t d = dominant[static_cast<size_t>(g)];
      if (d < 0 || d >= numExperts || labels[static_cast<size_t>(d)] != g)
        throw invalid(b + ": dominant member " + std::to_string(d) + " is not in group " + std::to_string(g));
    }
  }
}

LayerPlan mergeLayerPlan(int moeIndex, const std::vector<int64_t>& labels, MergeStrategy strategy,
                         const std::vector<double>& usageFrequency, RouterMode router,
                         const std::vector<int64_t>& dominant) {
  if (isPruneStrategy(strategy) || strategy == MergeStrategy::Keep)
    throw invalid(blockName(moeIndex) + ": mergeLayerPlan takes a merge strategy (frequency, average, dominant, ream)");
  LayerPlan p;
  p.moeIndex = moeIndex;
  p.numExperts = static_cast<int64_t>(labels.size());
  p.numGroups = groupsFromLabels(labels);
  p.strategy = strategy;
  p.router = router;
  p.labels = labels;
  p.usageFrequency = usageFrequency;
  p.dominant = dominant;
  p.alignNeurons = strategy == MergeStrategy::Ream;  // REAM aligns by default
  p.validate();
  return p;
}

LayerPlan pruneLayerPlan(int moeIndex, int64_t numExperts, const std::vector<int64_t>& kept, MergeStrategy strategy,
                         const std::vector<double>& scores) {
  if (!isPruneStrategy(strategy))
    throw invalid(blockName(moeIndex) + ": pruneLayerPlan takes a prune strategy (f-prune, reap)");
  LayerPlan p;
  p.moeIndex = moeIndex;
  p.numExperts = numExperts;
  p.numGroups = static_cast<int64_t>(kept.size());
  p.strategy = strategy;
  p.kept = kept;
  p.scores = scores;
  p.validate();
  return p;
}

LayerPlan keepLayerPlan(int moeIndex, int64_t numExperts) {
  LayerPlan p;
  p.moeIndex = moeIndex;
  p.numExperts = numExperts;
  p.numGroups = numExperts;
  p.strategy = MergeStrategy::Keep;
  p.validate();
  return p;
}

const LayerPlan* MergePlan::find(int moeIndex) const {
  for (const auto& l : layers)
    if (l.moeIndex == moeIndex) return &l;
  return nullptr;
}

void MergePlan::validate() const {
  std::set<int> seen;
  for (const auto& l : layers) {
    if (l.moeIndex < 0) throw invalid("merge plan: negative moe_index " + std::to_string(l.moeIndex));
    if (!seen.insert(l.moeIndex).second)
      throw invalid("merge plan: " + blockName(l.moeIndex) + " is listed twice");
    l.validate();
    if (format == ExportFormat::ExpertMap && isPruneStrategy(l.strategy))
      throw invalid("merge plan: " + blockName(l.moeIndex) +
                    " prunes experts, which only the compact format can express (the expert-map format keeps "
                    "the original router, so every expert needs weights)");
  }
}

void MergePlan::checkModel(const std::string& fingerprint, const std::vector<int64_t>& expertsPerBlock,
                           const std::vector<int>& decoderLayers) const {
  if (modelFingerprint != fingerprint)
    throw Error(ErrorKind::Stale, "this merge plan was made for another model (plan fingerprint '" + modelFingerprint +
                                      "', this model's '" + fingerprint + "'); make a new plan for this model");
  validate();
  for (const auto& l : layers) {
    const std::string b = blockName(l.moeIndex);
    if (l.moeIndex >= static_cast<int>(expertsPerBlock.size()))
      throw invalid("merge plan: " + b + " does not exist; the model has " + std::to_string(expertsPerBlock.size()) +
                    " MoE blocks");
    const int64_t E = expertsPerBlock[static_cast<size_t>(l.moeIndex)];
    if (l.numExperts != E)
      throw invalid("merge plan: " + b + " lists " + std::to_string(l.numExperts) + " experts but the model's block has " +
                    std::to_string(E));
    if (l.layer >= 0 && !decoderLayers.empty() && decoderLayers[static_cast<size_t>(l.moeIndex)] != l.layer)
      throw invalid("merge plan: " + b + " is decoder layer " + std::to_string(decoderLayers[static_cast<size_t>(l.moeIndex)]) +
                    " in this model, the plan says " + std::to_string(l.layer));
  }
}

json MergePlan::toJson() const {
  json j = {{"moescope_merge_plan", kVersion}, {"model_fingerprint", modelFingerprint}, {"format", exportFormatName(format)}};
  if (!calibrationFingerprint.empty()) j["calibration_fingerprint"] = calibrationFingerprint;
  if (!sourceModel.empty()) j["source_model"] = sourceModel;
  if (!method.empty()) j["method"] = method;
  json arr = json::array();
  for (const auto& l : layers) {
    json o = {{"moe_index", l.moeIndex},
              {"num_experts", l.numExperts},
              {"num_groups", l.numGroups},
              {"strategy", mergeStrategyName(l.strategy)}};
    if (l.layer >= 0) o["layer"] = l.layer;
    if (!isPruneStrategy(l.strategy) && l.strategy != MergeStrategy::Keep) {
      o["router"] = routerModeName(l.router);
      o["groups"] = l.labels;
    }
    if (averagesMembers(l.strategy)) o["align_neurons"] = l.alignNeurons;
    if (isPruneStrategy(l.strategy)) o["kept"] = l.kept;
    if (!l.usageFrequency.empty()) o["usage_frequency"] = l.usageFrequency;
    if (!l.dominant.empty()) o["dominant"] = l.dominant;
    if (!l.scores.empty()) o["scores"] = l.scores;
    arr.push_back(o);
  }
  j["layers"] = arr;
  return j;
}

MergePlan MergePlan::fromJson(const json& j, const std::string& source) {
  return readerBoundary(source, [&] { return parse(j, source); });
}

MergePlan MergePlan::parse(const json& j, const std::string& source) {
  auto bad = [&](const std::string& m) { return Error(ErrorKind::Format, source + ": " + m); };
  if (!j.is_object()) throw bad("not a JSON object");
  if (!j.contains("moescope_merge_plan") || !j["moescope_merge_plan"].is_number_integer())
    throw bad("not a MoEScope merge plan (no integer 'moescope_merge_plan' version field)");
  // Compared as the 64-bit value it is: read as an int, 4294967297 would pass for version 1.
  const json& version = j["moescope_merge_plan"];
  if (version.is_number_unsigned() ? version.get<uint64_t>() != static_cast<uint64_t>(kVersion)
                                   : version.get<int64_t>() != static_cast<int64_t>(kVersion))
    throw bad("merge plan version " + j["moescope_merge_plan"].dump() + " is not supported (this build reads " +
              std::to_string(kVersion) + ")");
  auto str = [&](const json& o, const char* key, const std::string& fallback, bool required) -> std::string {
    if (!o.contains(key) || o[key].is_null()) {
      if (required) throw bad(std::string("missing '") + key + "'");
      return fallback;
    }
    if (!o[key].is_string()) throw bad(std::string("'") + key + "' must be a string");
    return o[key].get<std::string>();
  };
  MergePlan p;
  p.modelFingerprint = str(j, "model_fingerprint", "", true);
  p.calibrationFingerprint = str(j, "calibration_fingerprint", "", false);
  p.sourceModel = str(j, "source_model", "", false);
  p.method = str(j, "method", "", false);
  try {
    p.format = parseExportFormat(str(j, "format", "compact", false));
  } catch (const Error& e) {
    throw Error(ErrorKind::InvalidArgument, source + ": " + e.what());
  }
  if (!j.contains("layers") || !j["layers"].is_array()) throw bad("'layers' must be a list");
  if (j["layers"].size() > static_cast<size_t>(limits::kMaxLayers))
    throw bad("'layers' lists " + std::to_string(j["layers"].size()) + " blocks, more than the limit of " +
              std::to_string(limits::kMaxLayers));
  for (const auto& o : j["layers"]) {
    if (!o.is_object()) throw bad("each entry of 'layers' must be an object");
    // Every integer of a layer entry is an index or a count bounded by core/limits.h. Values beyond
    // those bounds are refused here (Format), which keeps the narrowing to int exact (moe_index 2^32
    // would become block 0) and label + 1 from overflowing; validate() then judges the values in range.
    auto inRange = [&](const json& v, const char* key, int64_t lo, int64_t hi) -> int64_t {
      if (!v.is_number_integer()) throw bad(std::string("'") + key + "' must hold integers, got " + v.dump());
      const bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= static_cast<uint64_t>(hi)
                                               : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
      if (!fits)
        throw bad(std::string("'") + key + "' holds " + v.dump() + ", outside [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
      return v.get<int64_t>();
    };
    auto integer = [&](const char* key, int64_t fallback, bool required, int64_t lo, int64_t hi) -> int64_t {
      if (!o.contains(key) || o[key].is_null()) {
        if (required) throw bad(std::string("a layer entry lacks '") + key + "'");
        return fallback;
      }
      return inRange(o[key], key, lo, hi);
    };
    auto intList = [&](const char* key) {  // expert or group ids
      std::vector<int64_t> v;
      if (!o.contains(key) || o[key].is_null()) return v;
      if (!o[key].is_array()) throw bad(std::string("'") + key + "' must be a list of integers");
      if (o[key].size() > static_cast<size_t>(limits::kMaxExperts))
        throw bad(std::string("'") + key + "' has more entries than the limit of " + std::to_string(limits::kMaxExperts));
      for (const auto& e : o[key]) v.push_back(inRange(e, key, -limits::kMaxExperts, limits::kMaxExperts));
      return v;
    };
    auto numList = [&](const char* key) {
      std::vector<double> v;
      if (!o.contains(key) || o[key].is_null()) return v;
      if (!o[key].is_array()) throw bad(std::string("'") + key + "' must be a list of numbers");
      for (const auto& e : o[key]) {
        if (!e.is_number()) throw bad(std::string("'") + key + "' must be a list of numbers");
        v.push_back(e.get<double>());
      }
      return v;
    };
    LayerPlan l;
    l.moeIndex = static_cast<int>(integer("moe_index", 0, true, -limits::kMaxLayers, limits::kMaxLayers));
    l.layer = static_cast<int>(integer("layer", -1, false, -limits::kMaxLayers, limits::kMaxLayers));
    l.numExperts = integer("num_experts", 0, true, -limits::kMaxExperts, limits::kMaxExperts);
    try {
      l.strategy = parseMergeStrategy(str(o, "strategy", "frequency", false));
      l.router = parseRouterMode(str(o, "router", "average", false));
    } catch (const Error& e) {
      throw Error(ErrorKind::InvalidArgument, source + ": " + e.what());
    }
    l.labels = intList("groups");
    l.kept = intList("kept");
    l.usageFrequency = numList("usage_frequency");
    l.dominant = intList("dominant");
    l.scores = numList("scores");
    // Absent: on for ream (its definition aligns), off otherwise; ignored where nothing is averaged.
    l.alignNeurons = l.strategy == MergeStrategy::Ream;
    if (o.contains("align_neurons") && !o["align_neurons"].is_null()) {
      if (!o["align_neurons"].is_boolean())
        throw bad(blockName(l.moeIndex) + ": 'align_neurons' must be true or false, got " + o["align_neurons"].dump());
      l.alignNeurons = o["align_neurons"].get<bool>();
    }
    int64_t inferred = l.numExperts;
    if (isPruneStrategy(l.strategy)) inferred = static_cast<int64_t>(l.kept.size());
    else if (l.strategy != MergeStrategy::Keep)
      inferred = groupsFromLabels(l.labels);
    l.numGroups = integer("num_groups", inferred, false, -limits::kMaxExperts, limits::kMaxExperts);
    p.layers.push_back(std::move(l));
  }
  try {
    p.validate();
  } catch (const Error& e) {
    throw Error(e.kind(), source + ": " + e.what());
  }
  return p;
}

void MergePlan::save(const std::string& path) const {
  validate();
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw Error(ErrorKind::Io, path + ": cannot create (" + std::strerror(errno) + ")");
  out << toJson().dump(2) << "\n";
  out.flush();
  if (!out) throw Error(ErrorKind::Io, path + ": write failed (disk full?)");
}

MergePlan MergePlan::load(const std::string& path) {
  return readerBoundary(path, [&] { return loadUnguarded(path); });
}

MergePlan MergePlan::loadUnguarded(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::Io, path + ": cannot open the merge plan");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Format, path + ": not valid JSON (" + e.what() + ")");
  }
  return fromJson(j, path);
}

}  // namespace moe
