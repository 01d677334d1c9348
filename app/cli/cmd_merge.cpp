#include <cstdint>
#include <cstdio>

#include "app/cli/analysis_source.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/analysis/fingerprint.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/eval/merge_metrics.h"
#include "core/merge/export.h"
#include "core/merge/memory.h"
#include "core/merge/plan_builder.h"
#include "core/merge/router_hooks.h"

namespace moe::cli {
namespace {

std::string gib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f GB", static_cast<double>(bytes) / 1e9);
  return buf;
}

}  // namespace

int cmdMerge(const Argv& argv) {
  Args args(argv,
            {"model", "analysis", "calib", "sequences", "length", "field", "plan", "experts", "budget", "height",
             "linkage", "basis", "metric", "strategy", "grouping", "seed", "format", "router", "first-unmerged",
             "shard-mb", "save-plan", "out", "device", "dtype", "threads", "fit-tokens", "eval-text", "precision",
             "eval-sequences", "eval-length"},
            {"no-refine", "layer-errors"});
  initThreads(static_cast<int>(args.getInt("threads", 0)));
  const Runtime rt = Runtime::make(args.get("device", "auto"), args.get("dtype", "fp32"));
  auto model = Model::open(args.get("model"), rt);
  const std::string fingerprint = modelFingerprint(model->folder(), model->store());
  MergePlan plan;
  at::Tensor calibIds;
  if (args.has("plan")) {
    args.refuse({"linkage", "basis", "metric", "strategy", "router", "grouping", "seed", "first-unmerged", "experts",
                 "budget", "height"},
                "with --plan (the plan file fixes the groups, strategy and router of every block)");
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
    req.format = parseExportFormat(args.get("format", "compact"));
    req.grouping = args.choice("grouping", "clustering", {"clustering", "random"}) == "random" ? Grouping::Random
                                                                                              : Grouping::Clustering;
    req.seed = static_cast<uint64_t>(args.getInt("seed", 0));
    req.firstUnmerged = static_cast<int>(args.getInt("first-unmerged", 0, 0, INT32_MAX));
    if (!args.has("experts") && !args.has("budget") && !args.has("height"))
      throw Error(ErrorKind::InvalidArgument, "give --plan P.json, or one of --experts K, --budget TOTAL, --height H");
    AnalysisSource src = loadAnalysis(*model, args);
    calibIds = src.calibIds;
    std::vector<LayerTree> trees;
    for (const auto& l : src.layers) trees.push_back(buildLayerTree(l, req.clustering));
    req.clustersPerBlock = clustersFromArgs(args, src.layers, trees);
    if (req.clustersPerBlock.empty())
      throw Error(ErrorKind::InvalidArgument, "give --plan P.json, or one of --experts K, --budget TOTAL, --height H");
    plan = buildPlan(src.layers, req, src.info);
  }
  checkPlanForModel(plan, *model, fingerprint);
  if (args.has("save-plan")) {
    plan.save(args.get("save-plan"));
    std::printf("plan        saved to %s\n", args.get("save-plan").c_str());
  }
  // --precision: what the export stores (--dtype is the compute dtype of the metrics).
  const ExportPrecision precision =
      args.choice("precision", "source", {"source", "bf16"}) == "bf16" ? ExportPrecision::BF16 : ExportPrecision::Source;
  const MemoryPreview mem = previewMemory(*model, plan, precision);
  std::printf("method      %s\n", plan.method.c_str());
  std::printf("format      %s\n", exportFormatName(plan.format));
  std::printf("memory      %s -> %s (%lld -> %lld parameters, %.1f %% saved)\n", gib(mem.bytesBefore).c_str(),
              gib(mem.bytesAfter).c_str(), static_cast<long long>(mem.paramsBefore),
              static_cast<long long>(mem.paramsAfter), 100.0 * (1.0 - static_cast<double>(mem.bytesAfter) / mem.bytesBefore));
  ExportOptions opts;
  opts.fingerprint = fingerprint;
  opts.shardBytes = args.getInt("shard-mb", 5000, 1, int64_t{1} << 30) * 1000 * 1000;
  opts.precision = precision;
  const bool needsCalib = plan.format == ExportFormat::Compact && routerModesNeedCalibration(plan);
  if (needsCalib) {
    if (!calibIds.defined()) calibIds = loadCalibrationIds(*model, args);
    opts.routerHook = makeCompactRouterHook(*model, calibIds, plan, routerFitOptionsFromArgs(args));
  }
  // Measured metrics for the console and the model card.
  if (args.has("layer-errors") && !calibIds.defined()) calibIds = loadCalibrationIds(*model, args);
  at::Tensor evalIds;
  if (args.has("eval-text")) {
    TokenSourceOptions es;
    es.sequences = args.getInt("eval-sequences", 64, 1, INT32_MAX);
    es.length = args.getInt("eval-length", 256, 2, INT32_MAX);
    es.read.textField = args.get("field", "text");
    evalIds = loadTokenIds(args.get("eval-text"), model->folder(), es);
  }
  MergeMetrics metrics = measureMerge(*model, plan, opts.routerHook,
                                            args.has("layer-errors") ? calibIds : at::Tensor(), evalIds);
  if (metrics.original && metrics.merged)
    std::printf("perplexity  %.2f -> %.2f (%+.1f %%), mean KL %.4f on %lld x %lld held-out tokens\n",
                metrics.original->perplexity, metrics.merged->perplexity,
                100.0 * (metrics.merged->perplexity / metrics.original->perplexity - 1.0), metrics.merged->meanKl,
                static_cast<long long>(metrics.evalSequences), static_cast<long long>(metrics.evalLength));
  for (size_t j = 0; j < metrics.layerErrors.size(); ++j)
    std::printf("error       block %zu: %.4f\n", j, metrics.layerErrors[j]);
  metrics.memory = mem;  // the bytes this export stores, in its --precision
  opts.metricsMarkdown = mergeMetricsMarkdown(*model, plan, metrics);
  opts.notice = [](const std::string& message) {
    std::printf("cleanup     %s\n", message.c_str());
    std::fflush(stdout);
  };
  ProgressLine line;
  opts.progress = [&](int64_t done, int64_t total) {
    line.update("writing " + gib(done) + " / " + gib(total));
  };
  const ExportResult r = exportMergedModel(*model, plan, args.get("out"), opts);
  line.finish();
  std::printf("wrote       %s (%zu files, %lld tensors, %s)\n", r.folder.c_str(), r.files.size(),
              static_cast<long long>(r.numTensors), gib(r.tensorBytes).c_str());
  for (const auto& l : plan.layers)
    std::printf("  block %d (layer %d): %lld -> %lld experts, %s\n", l.moeIndex,
                model->moeLayers()[static_cast<size_t>(l.moeIndex)],  // a hand-written plan may omit "layer"
                static_cast<long long>(l.numExperts), static_cast<long long>(l.numGroups),
                mergeStrategyName(l.strategy));
  return 0;
}

}  // namespace moe::cli
