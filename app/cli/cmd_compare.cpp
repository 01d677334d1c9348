// The comparison users come for: at each K, HC-SMoE against the baselines, with perplexity, KL
// and memory measured on held-out text.
#include <cstdio>
#include <optional>

#include "app/cli/analysis_source.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/eval/evaluate.h"
#include "core/eval/generation_preview.h"
#include "core/merge/memory.h"
#include "core/merge/plan_builder.h"
#include "core/merge/router_hooks.h"

namespace moe::cli {
namespace {

struct Variant {
  std::string name;
  PlanRequest request;
  MergeSemantics semantics;
};

// `alignment`: the neuron-alignment ablations too (HC-SMoE aligned, REAM unaligned).
std::vector<Variant> variants(const std::vector<RouterMode>& routers, bool alignment) {
  std::vector<Variant> v;
  auto hc = [](LinkageMethod m, Representation r) {
    PlanRequest p;
    p.clustering.method = m;
    p.clustering.representation = r;
    return p;
  };
  for (LinkageMethod m : {LinkageMethod::Average, LinkageMethod::Single, LinkageMethod::Complete})
    v.push_back({std::string("HC-SMoE ") + linkageMethodName(m) + " (tied)", hc(m, Representation::ExpertOutput),
                 MergeSemantics::Tied});
  for (RouterMode r : routers) {
    PlanRequest p = hc(LinkageMethod::Average, Representation::ExpertOutput);
    p.router = r;
    v.push_back({std::string("HC-SMoE average, compact, router ") + routerModeName(r), p, MergeSemantics::Compact});
  }
  if (alignment) {
    PlanRequest p = hc(LinkageMethod::Average, Representation::ExpertOutput);
    p.alignNeurons = true;
    v.push_back({"HC-SMoE average, aligned (tied)", p, MergeSemantics::Tied});
    for (RouterMode r : routers) {
      p.router = r;
      v.push_back({std::string("HC-SMoE average, aligned, compact, router ") + routerModeName(r), p,
                   MergeSemantics::Compact});
    }
  }
  // REAM: top-K REAP centroids, neuron-aligned frequency merge; its compact router keeps the
  // centroids' rows unless a fitted router is asked for.
  PlanRequest ream;
  ream.strategy = MergeStrategy::Ream;
  v.push_back({"REAM (tied)", ream, MergeSemantics::Tied});
  v.push_back({"REAM, compact, centroid router rows", ream, MergeSemantics::Compact});
  for (RouterMode r : routers) {
    if (!isFittedRouter(r)) continue;
    PlanRequest p = ream;
    p.router = r;
    v.push_back({std::string("REAM, compact, router ") + routerModeName(r), p, MergeSemantics::Compact});
  }
  if (alignment) {
    PlanRequest p = ream;
    p.alignNeurons = false;
    v.push_back({"REAM, unaligned (tied)", p, MergeSemantics::Tied});
  }
  v.push_back({"router-logit similarity (tied)", hc(LinkageMethod::Average, Representation::RouterLogits), MergeSemantics::Tied});
  v.push_back({"weight similarity (tied)", hc(LinkageMethod::Average, Representation::Weights), MergeSemantics::Tied});
  PlanRequest random;
  random.grouping = Grouping::Random;
  v.push_back({"random groups (tied)", random, MergeSemantics::Tied});
  PlanRequest fprune;
  fprune.strategy = MergeStrategy::PruneFrequency;
  v.push_back({"F-prune", fprune, MergeSemantics::Compact});
  PlanRequest reap;
  reap.strategy = MergeStrategy::PruneReap;
  v.push_back({"REAP prune", reap, MergeSemantics::Compact});
  return v;
}

}  // namespace

int cmdCompare(const Argv& argv) {
  Args args(argv,
            {"model", "analysis", "calib", "sequences", "length", "field", "text", "eval-sequences", "experts",
             "routers", "device", "dtype", "threads", "fit-tokens", "align-tokens", "gen-prompts", "gen-prefix",
             "gen-tokens"},
            {"markdown", "no-refine", "align-neurons", "scmoe"});
  initThreads(static_cast<int>(args.getInt("threads", 0)));
  const Runtime rt = Runtime::make(args.get("device", "auto"), args.get("dtype", "fp32"));
  auto model = Model::open(args.get("model"), rt);
  const std::vector<int64_t> ks = parseIntList(args.get("experts", "12,8,4"), "experts");
  for (int64_t k : ks)
    if (k < 1 || k > model->config().numExperts)
      throw Error(ErrorKind::InvalidArgument, "--experts: every K must be between 1 and " +
                                                  std::to_string(model->config().numExperts) + ", got " +
                                                  std::to_string(k));
  const std::string text = args.get("text");
  // Compact router options to compare; the fitted ones (lse-fit, soft-fit, tied-fit) each run
  // forward passes over the calibration tokens, so they are opt-in.
  std::vector<RouterMode> routers;
  {
    const std::string list = args.get("routers", "average,frequency");
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      routers.push_back(parseRouterMode(list.substr(pos, comma - pos)));
      pos = comma + 1;
    }
  }
  const RouterFitOptions fitOptions = routerFitOptionsFromArgs(args);
  AnalysisSource src = loadAnalysis(*model, args);

  TokenSourceOptions evalOpts;
  evalOpts.length = args.getInt("length", 256);
  evalOpts.allSequences = true;
  at::Tensor evalIds = loadTokenIds(text, model->folder(), evalOpts);
  const int64_t keep = args.getInt("eval-sequences", 64);
  if (keep > 0 && keep < evalIds.size(0)) evalIds = evalIds.narrow(0, 0, keep);
  std::fprintf(stderr, "evaluating on %lld x %lld held-out tokens\n", static_cast<long long>(evalIds.size(0)),
               static_cast<long long>(evalIds.size(1)));

  const at::Tensor reference = finalHidden(*model, evalIds);
  const EvalResult base = scoreHidden(*model, reference, evalIds);
  // Free-running agreement: greedy continuations of held-out prefixes (0 prompts: skipped).
  HeldOutGenerationOptions gen;
  gen.prompts = args.getInt("gen-prompts", 8, 0, 4096);
  gen.prefix = args.getInt("gen-prefix", 16, 1, 1 << 20);
  gen.newTokens = args.getInt("gen-tokens", 32, 1, 1 << 20);
  std::vector<std::vector<int64_t>> originalContinuations;
  MergePlan identity;
  const MemoryPreview baseMem = previewMemory(*model, identity);
  const bool md = args.has("markdown");
  // --scmoe: held-out next-token accuracy, plain and under self-contrast decoding (default settings).
  const bool scmoe = args.has("scmoe");
  ScmoeOptions scmoeOptions;
  scmoeOptions.enabled = true;
  auto accuracy = [&](const NextTokenAccuracy* a) {
    if (!scmoe) return std::string();
    char buf[64] = "       -        -";
    if (a) std::snprintf(buf, sizeof buf, "%7.1f %% %6.1f %%", 100.0 * a->plain, 100.0 * a->scmoe);
    if (md && a) std::snprintf(buf, sizeof buf, " %.1f %% | %.1f %% |", 100.0 * a->plain, 100.0 * a->scmoe);
    return std::string(md ? (a ? buf : " - | - |") : buf);
  };
  auto row = [&](int64_t k, const std::string& name, const EvalResult& r, const FreeRunningAgreement* g,
                 int64_t params, const NextTokenAccuracy* acc) {
    const double delta = 100.0 * (r.perplexity / base.perplexity - 1.0);
    char kl[32] = "-", top1[32] = "-", prefix[32] = "-", rouge[32] = "-";
    if (r.meanKl >= 0) std::snprintf(kl, sizeof kl, "%.4f", r.meanKl);
    if (r.top1Agreement >= 0) std::snprintf(top1, sizeof top1, "%.1f %%", 100.0 * r.top1Agreement);
    if (g) {
      std::snprintf(prefix, sizeof prefix, "%.1f", g->meanIdenticalPrefix);
      std::snprintf(rouge, sizeof rouge, "%.3f", g->meanRougeL);
    }
    if (md)
      std::printf("| %lld | %s | %.2f | %+.1f %% | %s | %s | %s | %s |%s %.2f M |\n", static_cast<long long>(k),
                  name.c_str(), r.perplexity, delta, kl, top1, prefix, rouge, accuracy(acc).c_str(), params / 1e6);
    else
      std::printf("%4lld  %-48s %10.2f %+9.1f %% %9s %8s %7s %8s %s %9.2f M\n", static_cast<long long>(k), name.c_str(),
                  r.perplexity, delta, kl, top1, prefix, rouge, accuracy(acc).c_str(), params / 1e6);
    std::fflush(stdout);
  };
  if (md) {
    std::printf("| K | method | perplexity | vs original | KL | top-1 agr. | same prefix | ROUGE-L |%s parameters |\n"
                "|---|---|---|---|---|---|---|---|%s---|\n",
                scmoe ? " next-token acc. | with SCMoE |" : "", scmoe ? "---|---|" : "");
  } else {
    std::printf("%4s  %-48s %10s %11s %9s %8s %7s %8s %s %11s\n", "K", "method", "perplexity", "vs original", "KL",
                "top-1", "prefix", "ROUGE-L", scmoe ? "    acc.    SCMoE" : "", "parameters");
  }
  std::optional<NextTokenAccuracy> baseAcc;
  if (scmoe) baseAcc = nextTokenAccuracy(*model, evalIds, {}, scmoeOptions);
  row(src.layers.front().numExperts, "original", base, nullptr, baseMem.paramsAfter, baseAcc ? &*baseAcc : nullptr);

  for (int64_t k : ks) {
    for (const Variant& v : variants(routers, args.has("align-neurons"))) {
      PlanRequest req = v.request;
      std::vector<LayerTree> trees;
      req.clustersPerBlock = allocateClusters(src.layers, trees, AllocationRule::Uniform, static_cast<double>(k));
      // Deployable memory: a tied merge ships as an expert-map checkpoint, the rest as compact ones.
      req.format = v.semantics == MergeSemantics::Tied ? ExportFormat::ExpertMap : ExportFormat::Compact;
      MergePlan plan = buildPlan(src.layers, req, src.info);
      // Neuron permutations first: a fitted router then sees the aligned merge.
      if (planNeedsNeuronAlignment(plan))
        alignPlanNeurons(plan, *model, src.calibIds, neuronAlignOptionsFromArgs(args));
      const CompactRouterHook hook =
          v.semantics == MergeSemantics::Compact && routerModesNeedCalibration(plan)
              ? makeCompactRouterHook(*model, src.calibIds, plan, fitOptions)
              : CompactRouterHook{};
      ForwardOptions fo;
      fo.moeOverride = planOverride(plan, v.semantics, hook);
      const EvalResult r = evaluate(*model, evalIds, fo, reference);
      std::optional<FreeRunningAgreement> g;
      if (gen.prompts > 0) g = heldOutGenerationAgreement(*model, evalIds, fo.moeOverride, gen, originalContinuations);
      std::optional<NextTokenAccuracy> acc;
      if (scmoe) acc = nextTokenAccuracy(*model, evalIds, fo.moeOverride, scmoeOptions);
      row(k, v.name, r, g ? &*g : nullptr, previewMemory(*model, plan).paramsAfter, acc ? &*acc : nullptr);
    }
  }
  return 0;
}

}  // namespace moe::cli
