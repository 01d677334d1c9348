#include "app/gui/plan_state.h"

#include <cmath>

#include "core/error.h"

namespace moe {
namespace gui {

std::string PlanState::clusteringKey() const {
  return std::string(moe::linkageMethodName(linkage)) + "/" + moe::representationName(representation) + "/" + metric;
}

const char* allocationName(Allocation a) {
  switch (a) {
    case Allocation::Uniform: return "uniform";
    case Allocation::Frequency: return "frequency";
    case Allocation::Distance: return "distance";
  }
  return "uniform";
}

Allocation parseAllocation(const std::string& name) {
  for (Allocation a : {Allocation::Uniform, Allocation::Frequency, Allocation::Distance})
    if (name == allocationName(a)) return a;
  throw moe::Error(moe::ErrorKind::InvalidArgument,
                   "unknown allocation '" + name + "' (choices: uniform, frequency, distance)");
}

bool PlanState::operator==(const PlanState& o) const {
  return allocation == o.allocation && globalK == o.globalK && height == o.height && layerK == o.layerK &&
         sameClustering(o) && strategy == o.strategy && alignNeurons == o.alignNeurons;
}

nlohmann::json PlanState::toJson() const {
  nlohmann::json overrides = nlohmann::json::object();
  for (const auto& [j, k] : layerK) overrides[std::to_string(j)] = k;
  nlohmann::json j = {{"allocation", allocationName(allocation)},
                      {"global_k", globalK},
                      {"height", height},
                      {"layer_k", overrides},
                      {"linkage", moe::linkageMethodName(linkage)},
                      {"representation", moe::representationName(representation)},
                      {"metric", metric},
                      {"strategy", moe::mergeStrategyName(strategy)}};
  if (alignNeurons) j["align_neurons"] = *alignNeurons;  // absent: the strategy's default
  return j;
}

namespace {

// Largest K or block index a plan may name: far above any real model, small enough that no
// budget arithmetic (K x blocks) can overflow.
constexpr int64_t kMaxPlanValue = int64_t(1) << 24;

[[noreturn]] void malformed(const std::string& source, const std::string& what) {
  throw moe::Error(moe::ErrorKind::Format, source + ": explorer state (\"moescope_explorer\"): " + what);
}

int64_t checkedCount(const nlohmann::json& v, const std::string& source, const std::string& key) {
  if (!v.is_number_integer())
    malformed(source, "\"" + key + "\" must be an integer, got " + v.dump());
  const int64_t n = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kMaxPlanValue)
                        ? kMaxPlanValue + 1
                        : v.get<int64_t>();
  if (n < 1 || n > kMaxPlanValue)
    malformed(source, "\"" + key + "\" = " + v.dump() + " is outside 1.." + std::to_string(kMaxPlanValue));
  return n;
}

// A per-block override key: a decimal MoE block index, nothing else (no sign, no spaces, in range).
int checkedBlockKey(const std::string& key, const std::string& source) {
  int64_t value = 0;
  bool ok = !key.empty() && key.size() <= 9;
  for (char c : key) ok = ok && c >= '0' && c <= '9';
  if (ok) {
    for (char c : key) value = value * 10 + (c - '0');
    ok = value < kMaxPlanValue;
  }
  if (!ok) malformed(source, "\"layer_k\" key '" + key + "' is not a MoE block index (0.." +
                                 std::to_string(kMaxPlanValue - 1) + ")");
  return static_cast<int>(value);
}

std::string checkedString(const nlohmann::json& v, const std::string& source, const std::string& key) {
  if (!v.is_string()) malformed(source, "\"" + key + "\" must be a string, got " + v.dump());
  return v.get<std::string>();
}

}  // namespace

PlanState PlanState::fromJson(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) malformed(source, "expected an object, got " + j.dump());
  PlanState s;
  try {
    if (j.contains("allocation")) s.allocation = parseAllocation(checkedString(j["allocation"], source, "allocation"));
    if (j.contains("global_k")) s.globalK = checkedCount(j["global_k"], source, "global_k");
    if (j.contains("height")) {
      const nlohmann::json& h = j["height"];
      if (!h.is_number() || !std::isfinite(h.get<double>()))
        malformed(source, "\"height\" must be a finite number, got " + h.dump());
      s.height = h.get<double>();
    }
    if (j.contains("layer_k")) {
      const nlohmann::json& overrides = j["layer_k"];
      if (!overrides.is_object()) malformed(source, "\"layer_k\" must be an object {block: K}, got " + overrides.dump());
      for (const auto& [key, value] : overrides.items())
        s.layerK[checkedBlockKey(key, source)] = checkedCount(value, source, "layer_k/" + key);
    }
    if (j.contains("linkage")) s.linkage = moe::parseLinkageMethod(checkedString(j["linkage"], source, "linkage"));
    if (j.contains("representation"))
      s.representation = moe::parseRepresentation(checkedString(j["representation"], source, "representation"));
    if (j.contains("metric")) s.metric = checkedString(j["metric"], source, "metric");
    if (j.contains("strategy")) s.strategy = moe::parseMergeStrategy(checkedString(j["strategy"], source, "strategy"));
    if (j.contains("align_neurons")) {
      if (!j["align_neurons"].is_boolean())
        malformed(source, "\"align_neurons\" must be true or false, got " + j["align_neurons"].dump());
      s.alignNeurons = j["align_neurons"].get<bool>();
    }
  } catch (const nlohmann::json::exception& e) {
    malformed(source, e.what());
  } catch (const moe::Error& e) {
    if (e.kind() == moe::ErrorKind::Format) throw;
    malformed(source, e.what());  // an unknown linkage, representation, strategy or allocation name
  }
  return s;
}

}  // namespace gui
}  // namespace moe
