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
            withPlanOptions({"model", "shard-mb", "save-plan", "out", "device", "dtype", "threads", "eval-text",
                             "precision", "eval-sequences", "eval-length"}),
            withPlanFlags({"layer-errors"}));
  initThreads(static_cast<int>(args.getInt("threads", 0)));
  const Runtime rt = Runtime::make(args.get("device", "auto"), args.get("dtype", "fp32"));
  auto model = Model::open(args.get("model"), rt);
  const std::string fingerprint = modelFingerprint(model->folder(), model->store());
  at::Tensor calibIds;
  MergePlan plan = planFromArgs(*model, args, calibIds);
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
  // Neuron permutations (align_neurons) come before the router fit: a fit sees the aligned merge.
  alignPlanFromArgs(plan, *model, calibIds, args);
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
  if (metrics.merged && metrics.generation)
    std::printf("agreement   top-1 %.1f %% (teacher-forced); greedy continuations: identical prefix %.1f of %lld tokens, "
                "ROUGE-L %.3f (%lld held-out prompts)\n",
                100.0 * metrics.merged->top1Agreement, metrics.generation->meanIdenticalPrefix,
                static_cast<long long>(metrics.generationOptions.newTokens), metrics.generation->meanRougeL,
                static_cast<long long>(metrics.generation->prompts));
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
