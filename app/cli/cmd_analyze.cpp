#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <filesystem>

#include "app/cli/args.h"
#include "app/cli/dist_launch.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/analysis/analyzer.h"
#include "core/analysis/distributed.h"
#include "core/analysis/estimate.h"
#include "core/analysis/first_look.h"
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

namespace {

// The command line of each rank of `--nproc N`: without --nproc, with --distributed, and with
// --threads (cores / N) unless given, so that the ranks do not oversubscribe the cores.
std::vector<std::string> rankCommandLine(const Argv& argv, const Args& args, int nproc) {
  std::vector<std::string> out{"analyze"};
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--nproc") {
      ++i;
      continue;
    }
    if (argv[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(argv[i]);
  }
  if (!args.has("distributed")) out.push_back("--distributed");
  if (!args.has("threads")) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    out.push_back("--threads");
    out.push_back(std::to_string(std::max(1u, cores / static_cast<unsigned>(nproc))));
  }
  return out;
}

// An order-sensitive checksum of the token ids, exact in a double (below 2^48): the ranks check
// that they all read the same calibration (each rank reads it itself).
double idsChecksum(const at::Tensor& ids) {
  const at::Tensor c = ids.to(at::kCPU, at::kLong).contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  uint64_t h = 0;
  for (int64_t i = 0; i < c.numel(); ++i) h = (h * 1000003u + static_cast<uint64_t>(p[i])) & ((uint64_t{1} << 48) - 1);
  return static_cast<double>(h);
}

// The opened model and the calibration token ids of an analyze command: opened once, and shared
// by the two passes of --first-look.
struct AnalysisInputs {
  Runtime rt;
  std::unique_ptr<Model> model;
  TokenSourceOptions src;
  std::string calib;
  at::Tensor ids;  // every calibration sequence
};

AnalysisInputs openInputs(const Args& args) {
  initThreads(static_cast<int>(args.getInt("threads", 0)));
  AnalysisInputs in;
  in.rt = Runtime::make(args.get("device", "auto"), args.get("dtype", "fp32"));
  in.model = Model::open(args.get("model"), in.rt);
  in.model->setStaging(parseStaging(args.get("staging", "auto")));
  in.src.sequences = args.getInt("sequences", 32);
  in.src.length = args.getInt("length", 256);
  in.src.randomWindows = args.has("random-windows");
  in.src.seed = static_cast<uint64_t>(args.getInt("seed", 0));
  in.src.read.textField = args.get("field", "text");
  in.src.tokenizerPath = args.get("tokenizer", "");
  in.calib = args.get("calib");
  in.ids = loadTokenIds(in.calib, in.model->folder(), in.src);
  return in;
}

// The analysis itself; `comm` set in a distributed run (rank 0 owns the store and the console).
// `firstLook` > 0: the quick pass of --first-look over the first `firstLook` sequences, written
// afresh to firstLookPath(--out).
int analyze(const Args& args, Communicator* comm, AnalysisInputs& in, int64_t firstLook = 0) {
  const bool lead = !comm || comm->rank() == 0;
  const Runtime& rt = in.rt;
  Model* model = in.model.get();
  const TokenSourceOptions& src = in.src;
  const std::string& calib = in.calib;
  at::Tensor ids = in.ids;
  if (firstLook > 0) ids = ids.narrow(0, 0, std::min<int64_t>(firstLook, ids.size(0))).contiguous();
  AnalysisOptions options;
  const std::string stat = args.get("stat", "all");
  if (stat != "all" && stat != "routed") throw Error(ErrorKind::InvalidArgument, "--stat expects all or routed");
  options.allTokens = stat == "all";
  options.tokenChunk = args.getInt("chunk", options.tokenChunk);
  // This rank's sequences, taken before anything is written (too few sequences is an error).
  const at::Tensor share = comm ? shardSequences(ids, comm->rank(), comm->worldSize()) : ids;
  const std::string out = firstLook > 0 ? firstLookPath(args.get("out")) : args.get("out");
  const size_t numMoe = model->moeLayers().size();

  // Rank 0 alone opens (or resumes) the store; what it found is broadcast as
  // [status (0 run, 1 complete, -1 failed), sequences, length, ids checksum, finished block flags...].
  std::optional<OpenedAnalysisStore> opened;
  std::optional<AnalysisInfo> info;
  std::vector<bool> skip(numMoe, false);
  {
    std::exception_ptr failure;
    at::Tensor state = at::zeros({4 + static_cast<int64_t>(numMoe)}, at::kDouble);
    if (lead) {
      try {
        info = describeAnalysis(*model, ids, analysisSettings(calib, src, options, args.get("dtype", "fp32")));
        // Resume only what this run would compute identically (core/analysis/resume.h); --overwrite starts over.
        opened.emplace(openAnalysisStoreForRun(out, *info, args.has("overwrite") || firstLook > 0, OnResumeConflict::Refuse));
        state[0] = opened->resumed && opened->store.isComplete() ? 1.0 : 0.0;
        for (int j : opened->store.completedLayers()) state[4 + j] = 1.0;
      } catch (...) {
        if (!comm) throw;
        failure = std::current_exception();
        state[0] = -1.0;
      }
      state[1] = static_cast<double>(ids.size(0));
      state[2] = static_cast<double>(ids.size(1));
      state[3] = idsChecksum(ids);
    }
    if (comm) comm->broadcast(state, 0);
    if (failure) std::rethrow_exception(failure);
    if (state[0].item<double>() < 0)
      throw Error(ErrorKind::Io, "rank 0 could not open the analysis store " + out + " (its message says why)");
    if (state[1].item<double>() != static_cast<double>(ids.size(0)) ||
        state[2].item<double>() != static_cast<double>(ids.size(1)) || state[3].item<double>() != idsChecksum(ids))
      throw Error(ErrorKind::InvalidArgument, "the calibration tokens read here differ from rank 0's (" + calib +
                                                  ": another file, tokenizer or option on this host?)");
    for (size_t j = 0; j < numMoe; ++j) skip[j] = state[4 + static_cast<int64_t>(j)].item<double>() > 0;
    if (state[0].item<double>() > 0) {
      if (lead) {
        std::printf("%s is complete and up to date; nothing to compute\n", out.c_str());
        printSummary(opened->store);
      }
      return 0;
    }
  }
  AnalysisStore* store = lead ? &opened->store : nullptr;
  if (lead) {
    if (opened->resumed)
      std::printf("resuming %s: %zu of %zu MoE blocks already analysed\n", out.c_str(),
                  opened->store.completedLayers().size(), numMoe);
    const AnalysisEstimate est = estimateAnalysis(*model, ids.size(0), ids.size(1), options);
    std::printf("model       %s (%s, %d layers, %zu MoE blocks of %lld experts, top-%lld)\n", model->folder().c_str(),
                info->modelType.c_str(), model->numLayers(), numMoe, static_cast<long long>(info->numExperts),
                static_cast<long long>(info->topK));
    std::printf("calibration %s: %lld x %lld tokens\n", calib.c_str(), static_cast<long long>(ids.size(0)),
                static_cast<long long>(ids.size(1)));
    std::printf("runtime     %s, statistic: %s\n", rt.describe().c_str(),
                options.allTokens ? "every expert on every token (paper)" : "routed tokens only");
    if (comm)
      std::printf("distributed %d processes (Gloo), calibration sequence i on rank i mod %d; rank 0 writes the store\n",
                  comm->worldSize(), comm->worldSize());
    std::printf("estimate    %.1f TFLOP, about %s at the %.0f GFLOP/s measured here\n", est.flops / 1e12,
                formatDuration(est.seconds).c_str(), est.gflopsPerSecond);
    std::fflush(stdout);
  }

  ProgressLine line;
  AnalysisProgressFn progress;
  if (lead)
    progress = [&](const AnalysisProgress& p) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "layer %d/%d  MoE %d/%d  %.0f tokens/s  elapsed %s  ETA %s", p.layer + 1,
                    p.numLayers, p.moeDone, p.moeTotal, p.tokensPerSecond, formatDuration(p.elapsedSeconds).c_str(),
                    formatDuration(p.etaSeconds).c_str());
      line.update(buf);
    };
  const AnalysisResult result =
      comm ? runAnalysisDistributed(*model, share, ids.numel(), options,
                                    *comm, skip, store, progress)
           : runAnalysis(*model, ids, options, store, progress);
  // No rank reports success before rank 0 has written the last block.
  if (comm) comm->barrier();
  if (!lead) return 0;
  line.finish();
  std::printf("done        %s; %zu MoE blocks computed (%d resumed); expert evaluation %.1f GFLOP/s\n",
              formatDuration(result.seconds).c_str(), result.layers.size(), result.resumedLayers,
              result.expertSeconds > 0 ? result.expertFlops / result.expertSeconds / 1e9 : 0.0);
  std::printf("wrote       %s\n", out.c_str());
  if (firstLook == 0) printSummary(*store);
  return 0;
}

// --first-look N: the first N sequences into FILE.first-look.h5, then the full analysis, then how
// many blocks' groups at K = E/2 the first look already had right (core/analysis/first_look.h).
int analyzeWithFirstLook(const Args& args) {
  const int64_t n = args.getInt("first-look", 1, 1, int64_t{1} << 20);
  const std::string out = args.get("out");
  std::printf("=== first look: the first %lld calibration sequence(s)\n", static_cast<long long>(n));
  const auto t0 = std::chrono::steady_clock::now();
  AnalysisInputs in = openInputs(args);  // one opening and tokenization for both passes
  analyze(args, nullptr, in, n);
  const double quickSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("first look  %s ready after %s: open it in the explorer while the full analysis runs\n",
              firstLookPath(out).c_str(), formatDuration(quickSeconds).c_str());
  std::printf("=== full analysis\n");
  std::fflush(stdout);
  const int rc = analyze(args, nullptr, in);
  if (rc != 0) return rc;
  auto layersOf = [](const AnalysisStore& s) {
    std::vector<LayerStats> layers;
    for (int j : s.completedLayers()) layers.push_back(s.readLayer(j));
    return layers;
  };
  const GroupAgreement g = compareGroupsAtHalf(layersOf(AnalysisStore::open(firstLookPath(out))),
                                               layersOf(AnalysisStore::open(out)), ClusteringChoice{});
  std::printf("first look  groups at K = E/2 (expert output, euclidean, average linkage) identical to the full "
              "analysis' in %d of %d MoE blocks; mean Rand index %.4f\n",
              g.identical, g.blocks, g.meanRand);
  return 0;
}

}  // namespace

int cmdAnalyze(const Argv& argv) {
  Args args(argv,
            {"model", "calib", "sequences", "length", "seed", "field", "tokenizer", "stat", "device", "dtype",
             "threads", "chunk", "out", "nproc", "dist-timeout", "first-look", "staging"},
            {"random-windows", "overwrite", "distributed"});
  if (args.has("nproc") || args.has("distributed"))
    args.refuse({"first-look"}, "with --nproc or --distributed (run the first look in one process)");
  if (args.has("nproc")) {
    const int nproc = static_cast<int>(args.getInt("nproc", 1, 1, 1024));
    if (!distributedAvailable()) Communicator::connect({});  // throws the "unavailable" error
    return launchLocalRanks(nproc, rankCommandLine(argv, args, nproc));
  }
  if (!args.has("distributed")) {
    args.refuse({"dist-timeout"}, "without --distributed or --nproc");
    if (args.has("first-look")) return analyzeWithFirstLook(args);
    AnalysisInputs in = openInputs(args);
    return analyze(args, nullptr, in);
  }
  DistributedConfig config = distributedConfigFromEnvironment();
  const double timeout = args.getNumber("dist-timeout", 1800);
  if (!(timeout > 0 && timeout < 1e7))
    throw Error(ErrorKind::InvalidArgument, "--dist-timeout expects seconds, more than 0");
  config.timeout = std::chrono::milliseconds(static_cast<int64_t>(1000 * timeout));
  const std::string who = "rank " + std::to_string(config.rank) + " of " + std::to_string(config.worldSize) + ": ";
  try {
    const std::unique_ptr<Communicator> comm = Communicator::connect(config);
    AnalysisInputs in = openInputs(args);
    return analyze(args, comm.get(), in);
  } catch (const Error& e) {
    const std::string what = e.what();
    throw Error(e.kind(), what.rfind("rank ", 0) == 0 ? what : who + what);
  }
}

}  // namespace moe::cli
