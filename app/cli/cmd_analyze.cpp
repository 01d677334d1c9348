#include <cstdio>
#include <filesystem>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/analysis/analyzer.h"
#include "core/analysis/estimate.h"
#include "core/analysis/resume.h"
#include "core/analysis/store.h"
#include "core/engine/token_source.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace moe::cli {
namespace {

void printSummary(const AnalysisStore& store) {
  std::printf("\n%-6s %-6s %-8s %-24s %-24s %s\n", "block", "layer", "experts", "usage min / max", "REAP min / max",
              "closest pair (expert output)");
  for (int j : store.completedLayers()) {
    const LayerStats s = store.readLayer(j);
    auto [umin, umax] = std::minmax_element(s.usageFrequency.begin(), s.usageFrequency.end());
    auto [rmin, rmax] = std::minmax_element(s.reapScore.begin(), s.reapScore.end());
    std::string closest = "-";
    if (!s.expertOutputMean.empty() && s.numExperts > 1) {
      const Matrix d = s.distances(Representation::ExpertOutput, "euclidean");
      int64_t bi = 0, bj = 1;
      for (int64_t a = 0; a < d.rows; ++a)
        for (int64_t b = a + 1; b < d.rows; ++b)
          if (d(a, b) < d(bi, bj)) bi = a, bj = b;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%lld-%lld (%.4g)", static_cast<long long>(bi), static_cast<long long>(bj), d(bi, bj));
      closest = buf;
    }
    char usage[64], reap[64];
    std::snprintf(usage, sizeof usage, "%.4f / %.4f", *umin, *umax);
    std::snprintf(reap, sizeof reap, "%.4g / %.4g", *rmin, *rmax);
    std::printf("%-6d %-6d %-8lld %-24s %-24s %s\n", j, s.layer, static_cast<long long>(s.numExperts), usage, reap,
                closest.c_str());
  }
}

}  // namespace

int cmdAnalyze(const Argv& argv) {
  Args args(argv,
            {"model", "calib", "sequences", "length", "seed", "field", "tokenizer", "stat", "device", "dtype",
             "threads", "chunk", "out"},
            {"random-windows", "overwrite"});
  initThreads(static_cast<int>(args.getInt("threads", 0)));
  const Runtime rt = Runtime::make(args.get("device", "auto"), args.get("dtype", "fp32"));
  auto model = Model::open(args.get("model"), rt);
  TokenSourceOptions src;
  src.sequences = args.getInt("sequences", 32);
  src.length = args.getInt("length", 256);
  src.randomWindows = args.has("random-windows");
  src.seed = static_cast<uint64_t>(args.getInt("seed", 0));
  src.read.textField = args.get("field", "text");
  src.tokenizerPath = args.get("tokenizer", "");
  const std::string calib = args.get("calib");
  at::Tensor ids = loadTokenIds(calib, model->folder(), src);
  AnalysisOptions options;
  const std::string stat = args.get("stat", "all");
  if (stat != "all" && stat != "routed") throw Error(ErrorKind::InvalidArgument, "--stat expects all or routed");
  options.allTokens = stat == "all";
  options.tokenChunk = args.getInt("chunk", options.tokenChunk);

  const AnalysisInfo info =
      describeAnalysis(*model, ids, analysisSettings(calib, src, options, args.get("dtype", "fp32")));

  // Resume only what this run would compute identically (core/analysis/resume.h); --overwrite starts over.
  const std::string out = args.get("out");
  OpenedAnalysisStore opened = openAnalysisStoreForRun(out, info, args.has("overwrite"), OnResumeConflict::Refuse);
  AnalysisStore& store = opened.store;
  if (opened.resumed) {
    if (store.isComplete()) {
      std::printf("%s is complete and up to date; nothing to compute\n", out.c_str());
      printSummary(store);
      return 0;
    }
    std::printf("resuming %s: %zu of %zu MoE blocks already analysed\n", out.c_str(), store.completedLayers().size(),
                info.moeLayers.size());
  }

  const AnalysisEstimate est = estimateAnalysis(*model, ids.size(0), ids.size(1), options);
  std::printf("model       %s (%s, %d layers, %zu MoE blocks of %lld experts, top-%lld)\n", model->folder().c_str(),
              info.modelType.c_str(), model->numLayers(), info.moeLayers.size(),
              static_cast<long long>(info.numExperts), static_cast<long long>(info.topK));
  std::printf("calibration %s: %lld x %lld tokens\n", calib.c_str(), static_cast<long long>(ids.size(0)),
              static_cast<long long>(ids.size(1)));
  std::printf("runtime     %s, statistic: %s\n", rt.describe().c_str(),
              options.allTokens ? "every expert on every token (paper)" : "routed tokens only");
  std::printf("estimate    %.1f TFLOP, about %s at the %.0f GFLOP/s measured here\n", est.flops / 1e12,
              formatDuration(est.seconds).c_str(), est.gflopsPerSecond);
  std::fflush(stdout);

  ProgressLine line;
  auto progress = [&](const AnalysisProgress& p) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "layer %d/%d  MoE %d/%d  %.0f tokens/s  elapsed %s  ETA %s", p.layer + 1,
                  p.numLayers, p.moeDone, p.moeTotal, p.tokensPerSecond, formatDuration(p.elapsedSeconds).c_str(),
                  formatDuration(p.etaSeconds).c_str());
    line.update(buf);
  };
  const AnalysisResult result = runAnalysis(*model, ids, options, &store, progress);
  line.finish();
  std::printf("done        %s; %zu MoE blocks computed (%d resumed); expert evaluation %.1f GFLOP/s\n",
              formatDuration(result.seconds).c_str(), result.layers.size(), result.resumedLayers,
              result.expertSeconds > 0 ? result.expertFlops / result.expertSeconds / 1e9 : 0.0);
  std::printf("wrote       %s\n", out.c_str());
  printSummary(store);
  return 0;
}

}  // namespace moe::cli
