#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "app/cli/analysis_source.h"
#include "app/cli/commands.h"
#include "core/analysis/clustering.h"
#include "core/analysis/store.h"
#include "core/cluster/tree.h"
#include "core/error.h"
#include "core/merge/plan_builder.h"

namespace moe::cli {
namespace {

// "0,2-4" -> {0, 2, 3, 4}
std::set<int> parseLayerList(const std::string& spec) {
  std::set<int> out;
  size_t pos = 0;
  while (pos < spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    const std::string item = spec.substr(pos, comma - pos);
    const size_t dash = item.find('-');
    try {
      if (dash == std::string::npos) {
        out.insert(std::stoi(item));
      } else {
        for (int i = std::stoi(item.substr(0, dash)); i <= std::stoi(item.substr(dash + 1)); ++i) out.insert(i);
      }
    } catch (const std::exception&) {
      throw Error(ErrorKind::InvalidArgument, "--layers expects a list like 0,2-5, got '" + spec + "'");
    }
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int cmdCluster(const Argv& argv) {
  Args args(argv, {"linkage", "basis", "metric", "experts", "budget", "height", "layers"}, {"json"});
  if (args.positional().size() != 1) throw Error(ErrorKind::InvalidArgument, "cluster needs one ANALYSIS.h5");
  const AnalysisStore store = AnalysisStore::open(args.positional()[0]);
  ClusteringChoice choice;
  choice.method = parseLinkageMethod(args.get("linkage", "average"));
  choice.representation = parseRepresentation(args.get("basis", "expert_output"));
  choice.metric = args.get("metric", "euclidean");
  validateClusteringChoice(choice);  // ward needs Euclidean distances: refused before any layer is read
  const std::vector<LayerStats> layers = readAllLayers(store);
  std::vector<LayerTree> trees;
  for (const auto& l : layers) trees.push_back(buildLayerTree(l, choice));
  const std::vector<int64_t> k = clustersFromArgs(args, layers, trees);
  if (k.empty()) throw Error(ErrorKind::InvalidArgument, "give one of --experts K, --budget TOTAL, --height H");
  const std::set<int> only = args.has("layers") ? parseLayerList(args.get("layers")) : std::set<int>{};

  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerStats& s = layers[i];
    if (!only.empty() && !only.count(s.moeIndex)) continue;
    const std::vector<int64_t> labels = canonicalLabels(cutTree(trees[i].linkage, k[i]));
    std::vector<std::vector<int64_t>> groups(static_cast<size_t>(k[i]));
    for (size_t e = 0; e < labels.size(); ++e) groups[static_cast<size_t>(labels[e])].push_back(static_cast<int64_t>(e));
    out.push_back({{"moe_block", s.moeIndex}, {"layer", s.layer}, {"prefix", s.prefix}, {"experts", s.numExperts},
                   {"clusters", k[i]}, {"labels", labels}, {"groups", groups}});
  }
  if (args.has("json")) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("linkage %s on %s (%s)\n", linkageMethodName(choice.method), representationName(choice.representation),
              choice.metric.c_str());
  for (const auto& l : out) {
    std::printf("block %d (layer %d): %lld -> %lld:", l["moe_block"].get<int>(), l["layer"].get<int>(),
                l["experts"].get<long long>(), l["clusters"].get<long long>());
    for (const auto& g : l["groups"]) {
      std::printf(" {");
      for (size_t m = 0; m < g.size(); ++m) std::printf("%s%lld", m ? "," : "", g[m].get<long long>());
      std::printf("}");
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace moe::cli
