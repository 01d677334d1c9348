#include "app/gui/plan_state.h"

#include "core/error.h"

namespace moe {
namespace gui {

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
         sameClustering(o) && strategy == o.strategy;
}

nlohmann::json PlanState::toJson() const {
  nlohmann::json overrides = nlohmann::json::object();
  for (const auto& [j, k] : layerK) overrides[std::to_string(j)] = k;
  return {{"allocation", allocationName(allocation)},
          {"global_k", globalK},
          {"height", height},
          {"layer_k", overrides},
          {"linkage", moe::linkageMethodName(linkage)},
          {"representation", moe::representationName(representation)},
          {"metric", metric},
          {"strategy", moe::mergeStrategyName(strategy)}};
}

PlanState PlanState::fromJson(const nlohmann::json& j) {
  PlanState s;
  try {
    if (j.contains("allocation")) s.allocation = parseAllocation(j["allocation"].get<std::string>());
    if (j.contains("global_k")) s.globalK = j["global_k"].get<int64_t>();
    if (j.contains("height")) s.height = j["height"].get<double>();
    if (j.contains("layer_k"))
      for (const auto& [key, value] : j["layer_k"].items()) s.layerK[std::stoi(key)] = value.get<int64_t>();
    if (j.contains("linkage")) s.linkage = moe::parseLinkageMethod(j["linkage"].get<std::string>());
    if (j.contains("representation"))
      s.representation = moe::parseRepresentation(j["representation"].get<std::string>());
    if (j.contains("metric")) s.metric = j["metric"].get<std::string>();
    if (j.contains("strategy")) s.strategy = moe::parseMergeStrategy(j["strategy"].get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw moe::Error(moe::ErrorKind::Format, std::string("explorer state in the plan: ") + e.what());
  } catch (const std::invalid_argument&) {
    throw moe::Error(moe::ErrorKind::Format, "explorer state in the plan: a layer key is not a number");
  }
  return s;
}

}  // namespace gui
}  // namespace moe
