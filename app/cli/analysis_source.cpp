#include "app/cli/analysis_source.h"

#include <cstdint>
#include <cstdio>

#include "app/cli/progress.h"
#include "core/analysis/analyzer.h"
#include "core/analysis/freshness.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/merge/plan_builder.h"

namespace moe::cli {

namespace {

// --analysis A.h5, refused (Stale, saying what changed) when it no longer matches the model.
AnalysisStore openFreshStore(const Model& model, const Args& args) {
  AnalysisStore store = AnalysisStore::open(args.get("analysis"));
  checkStoreMatchesModel(store, model.folder(), model.store());
  return store;
}

at::Tensor storedCalibrationIds(const AnalysisInfo& info) {
  return at::tensor(info.tokenIds, at::kLong).reshape(info.tokenShape);
}

}  // namespace

at::Tensor loadCalibrationIds(Model& model, const Args& args) {
  if (args.has("analysis")) return storedCalibrationIds(openFreshStore(model, args).info());
  if (!args.has("calib")) throw Error(ErrorKind::InvalidArgument, "give --analysis A.h5 or --calib FILE");
  TokenSourceOptions opts;
  opts.sequences = args.getInt("sequences", 32);
  opts.length = args.getInt("length", 256);
  opts.read.textField = args.get("field", "text");
  return loadTokenIds(args.get("calib"), model.folder(), opts);
}

AnalysisSource loadAnalysis(Model& model, const Args& args) {
  AnalysisSource src;
  if (args.has("analysis")) {
    const AnalysisStore store = openFreshStore(model, args);
    src.info = store.info();
    src.layers = readAllLayers(store);
    src.calibIds = storedCalibrationIds(src.info);
    return src;
  }
  src.calibIds = loadCalibrationIds(model, args);
  src.info = describeAnalysis(model, src.calibIds, {{"calibration", args.get("calib")}});
  ProgressLine line;
  AnalysisResult r = runAnalysis(model, src.calibIds, {}, nullptr, [&](const AnalysisProgress& p) {
    line.update("analysing: layer " + std::to_string(p.layer + 1) + "/" + std::to_string(p.numLayers) + ", ETA " +
                formatDuration(p.etaSeconds));
  });
  line.finish();
  src.layers = std::move(r.layers);
  return src;
}

std::vector<int64_t> clustersFromArgs(const Args& args, const std::vector<LayerStats>& layers,
                                      const std::vector<LayerTree>& trees) {
  const int given = (args.has("experts") ? 1 : 0) + (args.has("budget") ? 1 : 0) + (args.has("height") ? 1 : 0);
  if (given == 0) return {};
  if (given > 1) throw Error(ErrorKind::InvalidArgument, "give only one of --experts K, --budget TOTAL, --height H");
  if (args.has("budget"))
    return allocateClusters(layers, trees, AllocationRule::GlobalFrequency, static_cast<double>(args.getInt("budget", 0)));
  if (args.has("height")) return allocateClusters(layers, trees, AllocationRule::DistanceThreshold, args.getNumber("height", 0));
  const int64_t K = args.getInt("experts", 0);
  for (const auto& l : layers)
    if (K < 1 || K > l.numExperts)
      throw Error(ErrorKind::InvalidArgument, "--experts must be between 1 and " + std::to_string(l.numExperts));
  return allocateClusters(layers, trees, AllocationRule::Uniform, static_cast<double>(K));
}

std::vector<int64_t> parseIntList(const std::string& spec, const std::string& option) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    try {
      out.push_back(std::stoll(spec.substr(pos, comma - pos)));
    } catch (const std::exception&) {
      throw Error(ErrorKind::InvalidArgument, "--" + option + " expects numbers like 12,8,4, got '" + spec + "'");
    }
    pos = comma + 1;
  }
  return out;
}

std::optional<bool> alignNeuronsFromArgs(const Args& args) {
  if (args.has("align-neurons") && args.has("no-align-neurons"))
    throw Error(ErrorKind::InvalidArgument, "give only one of --align-neurons and --no-align-neurons");
  if (args.has("align-neurons")) return true;
  if (args.has("no-align-neurons")) return false;
  return std::nullopt;
}

NeuronAlignOptions neuronAlignOptionsFromArgs(const Args& args) {
  NeuronAlignOptions o;
  o.maxTokens = args.getInt("align-tokens", o.maxTokens, 2, INT32_MAX);
  return o;
}

void alignPlanFromArgs(MergePlan& plan, Model& model, at::Tensor& calibIds, const Args& args) {
  if (!planNeedsNeuronAlignment(plan)) return;
  if (!calibIds.defined()) calibIds = loadCalibrationIds(model, args);
  ProgressLine line;
  alignPlanNeurons(plan, model, calibIds, neuronAlignOptionsFromArgs(args), [&](int done, int total) {
    line.update("aligning neurons: block " + std::to_string(done) + "/" + std::to_string(total));
  });
  line.finish();
}

RouterFitOptions routerFitOptionsFromArgs(const Args& args) {
  RouterFitOptions o;
  o.maxTokens = args.getInt("fit-tokens", o.maxTokens);
  if (o.maxTokens < 1) throw Error(ErrorKind::InvalidArgument, "--fit-tokens must be at least 1");
  o.refineOutput = !args.has("no-refine");
  return o;
}

MergePlan planFromArgs(Model& model, const Args& args, at::Tensor& calibIds) {
  MergePlan plan;
  if (args.has("plan")) {
    args.refuse({"linkage", "basis", "metric", "strategy", "router", "grouping", "seed", "first-unmerged", "experts",
                 "budget", "height", "align-neurons", "no-align-neurons"},
                "with --plan (the plan file fixes the groups, strategy, router and neuron alignment of every block)");
    plan = MergePlan::load(args.get("plan"));
    if (args.has("format")) plan.format = parseExportFormat(args.get("format"));
  } else {
    PlanRequest req;
    req.clustering.method = parseLinkageMethod(args.get("linkage", "average"));
    req.clustering.representation = parseRepresentation(args.get("basis", "expert_output"));
    req.clustering.metric = args.get("metric", "euclidean");
    validateClusteringChoice(req.clustering);  // refused before a --calib analysis runs
    req.strategy = parseMergeStrategy(args.get("strategy", "frequency"));
    req.router = parseRouterMode(args.get("router", "average"));
    req.alignNeurons = alignNeuronsFromArgs(args);
    if (req.alignNeurons && *req.alignNeurons && !averagesMembers(req.strategy))
      throw Error(ErrorKind::InvalidArgument, std::string("--align-neurons applies to the strategies that average "
                                                          "experts (frequency, average, ream), not --strategy ") +
                                                  mergeStrategyName(req.strategy));
    req.format = parseExportFormat(args.get("format", "compact"));
    req.grouping = args.choice("grouping", "clustering", {"clustering", "random"}) == "random" ? Grouping::Random
                                                                                              : Grouping::Clustering;
    req.seed = static_cast<uint64_t>(args.getInt("seed", 0));
    req.firstUnmerged = static_cast<int>(args.getInt("first-unmerged", 0, 0, INT32_MAX));
    if (!args.has("experts") && !args.has("budget") && !args.has("height"))
      throw Error(ErrorKind::InvalidArgument, "give --plan P.json, or one of --experts K, --budget TOTAL, --height H");
    AnalysisSource src = loadAnalysis(model, args);
    calibIds = src.calibIds;
    std::vector<LayerTree> trees;
    for (const auto& l : src.layers) trees.push_back(buildLayerTree(l, req.clustering));
    req.clustersPerBlock = clustersFromArgs(args, src.layers, trees);
    if (req.clustersPerBlock.empty())
      throw Error(ErrorKind::InvalidArgument, "give --plan P.json, or one of --experts K, --budget TOTAL, --height H");
    plan = buildPlan(src.layers, req, src.info);
  }
  return plan;
}

std::set<std::string> withPlanOptions(std::set<std::string> own) {
  for (const char* o : {"analysis", "calib", "sequences", "length", "field", "plan", "experts", "budget", "height",
                        "linkage", "basis", "metric", "strategy", "grouping", "seed", "router", "first-unmerged",
                        "format", "fit-tokens", "align-tokens"})
    own.insert(o);
  return own;
}

std::set<std::string> withPlanFlags(std::set<std::string> own) {
  for (const char* f : {"no-refine", "align-neurons", "no-align-neurons"}) own.insert(f);
  return own;
}

}  // namespace moe::cli
