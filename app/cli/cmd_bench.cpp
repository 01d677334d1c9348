// The analysis benchmark: a synthetic model shaped like Qwen1.5-MoE-A2.7B's layer stack (hidden
// 2048, 60 experts of 1408, top-4, shared expert 5632), analysed on random tokens. Prints the
// measured figures; it asserts nothing (speed is reported, never tested). With --quant fp8 the same
// model is also written FP8 block-quantized (--quant mxfp4: both as a gpt-oss-shaped model, its
// experts MXFP4), both are analysed on the same tokens and the time ratio quantized / BF16 is
// reported: what dequantizing while streaming costs.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/analysis/analyzer.h"
#include "core/analysis/estimate.h"
#include "core/arch/architectures.h"
#include "core/arch/bench_shapes.h"
#include "core/engine/synth.h"
#include "core/error.h"
#include "core/nn/functional.h"

namespace fs = std::filesystem;

namespace moe::cli {

int cmdBench(const Argv& argv) {
  Args args(argv, {"layers", "sequences", "length", "dtype", "device", "threads", "model-dir", "chunk", "quant", "shape",
                   "group-width", "staging"},
            {"routed", "cold"});
  initThreads(static_cast<int>(args.getInt("threads", 0)));
  const Runtime rt = Runtime::make(args.get("device", "auto"), args.get("dtype", "fp32"));
  const int64_t layers = args.getInt("layers", 2, 1, 4096);
  std::vector<std::string> shapeNames;
  for (const BenchShape& b : benchShapes()) shapeNames.push_back(b.name);
  std::string shape = args.choice("shape", shapeNames.front(), shapeNames);
  SynthSpec spec =
      std::find_if(benchShapes().begin(), benchShapes().end(), [&](const BenchShape& b) { return b.name == shape; })
          ->spec;
  spec.layers = layers;
  const std::string quant = args.choice("quant", "none", {"none", "fp8", "mxfp4"});
  if (quant != "none" && args.has("model-dir"))
    throw Error(ErrorKind::InvalidArgument, "--quant writes its own pair of models; it cannot take --model-dir");
  if (quant == "mxfp4") {  // MXFP4 checkpoints quantize fused experts: gpt-oss' layout, same sizes
    spec.arch = gptOssType().modelType;
    spec.sharedIntermediate = 0;
    shape = "gpt-oss";
  } else if (shape == shapeNames.front()) {
    shape = "qwen1.5-moe";  // the folder name earlier runs made
  }
  const std::string dir = args.get("model-dir", "build/bench-models/" + shape + "-shaped-" + std::to_string(layers) + "L");
  auto ensure = [&](const std::string& d, const SynthSpec& s) {
    if (fs::exists(fs::path(d) / "config.json")) return;
    std::fprintf(stderr, "creating %s (once; reused by later runs)\n", d.c_str());
    fs::remove_all(d);
    writeSyntheticModel(s, d, [](int64_t done, int64_t total) {
      std::fprintf(stderr, "\rwriting %.2f / %.2f GB", done / 1e9, total / 1e9);
    });
    std::fprintf(stderr, "\n");
  };
  ensure(dir, spec);
  std::string quantDir;
  if (quant != "none") {
    SynthSpec q = spec;
    q.quant = quant;
    quantDir = dir + "-" + quant;
    ensure(quantDir, q);
  }
  const Staging staging = parseStaging(args.get("staging", "auto"));
  // --cold: the model's files leave the page cache first, as for a model read once or larger than
  // memory (pages another process has mapped stay).
  if (args.has("cold"))
    for (const auto& entry : fs::directory_iterator(dir)) {
      const int fd = ::open(entry.path().c_str(), O_RDONLY);
      if (fd < 0) continue;
      ::fdatasync(fd);
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      ::close(fd);
    }
  auto model = Model::open(dir, rt);
  model->setStaging(staging);
  // An existing --model-dir may hold any model (the CLI tests pass a tiny one): its own sizes count.
  const ModelConfig& cfg = model->config();
  const int64_t sequences = args.getInt("sequences", 4, 1, INT32_MAX),
                length = args.getInt("length", 512, 1, INT32_MAX);
  at::Tensor ids = at::randint(cfg.vocabSize, {sequences, length}, at::TensorOptions().dtype(at::kLong));
  AnalysisOptions options;
  options.allTokens = !args.has("routed");
  options.tokenChunk = args.getInt("chunk", options.tokenChunk);
  options.expertGroupWidth = args.getInt("group-width", options.expertGroupWidth, 0, int64_t{1} << 20);

  // The reference: one product of the width expert evaluation actually uses (a whole group of experts
  // where they are evaluated together, as core/analysis/analyzer.cpp groups them, else one expert).
  const int64_t I = cfg.moeIntermediateSize;
  const int64_t perProduct = options.allTokens && options.expertGroupWidth > 0
                                 ? std::clamp<int64_t>(options.expertGroupWidth / I, 1, cfg.numExperts)
                                 : 1;
  const int64_t peakWidth = I * perProduct;
  const int64_t peakRows = std::min<int64_t>(options.tokenChunk, sequences * length);
  const double nativePeak = measureMatmulGflops(rt, peakRows, cfg.hiddenSize, peakWidth, 1.0);
  // Where this CPU's bf16 / fp16 products are slower than fp32 (no native bf16), the analysis runs
  // them in fp32 (core/nn/functional.h: dense): the peak that bounds it is the fp32 product's.
  const bool viaFloat = rt.device.is_cpu() && lowPrecisionThroughFloat(rt.dtype);
  Runtime fp32 = rt;
  fp32.dtype = at::kFloat;
  const double peak = viaFloat ? measureMatmulGflops(fp32, peakRows, cfg.hiddenSize, peakWidth, 1.0) : nativePeak;
  ProgressLine line;
  const AnalysisResult r = runAnalysis(*model, ids, options, nullptr, [&](const AnalysisProgress& p) {
    line.update("layer " + std::to_string(p.layer + 1) + "/" + std::to_string(p.numLayers) + ", ETA " +
                formatDuration(p.etaSeconds));
  });
  line.finish();
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const double achieved = r.expertSeconds > 0 ? r.expertFlops / r.expertSeconds / 1e9 : 0;
  std::printf("model                 %s: %s, %lld layers (hidden %lld, %lld x %lld experts, top-%lld)\n", dir.c_str(),
              cfg.modelType.c_str(), static_cast<long long>(cfg.numLayers), static_cast<long long>(cfg.hiddenSize),
              static_cast<long long>(cfg.numExperts), static_cast<long long>(cfg.moeIntermediateSize),
              static_cast<long long>(cfg.topK));
  std::printf("runtime               %s\n", rt.describe().c_str());
  std::printf("weights               %s%s, staging %s (%s)\n", args.has("cold") ? "read from disk" : "as cached",
              args.has("cold") ? " (--cold)" : "", stagingName(staging),
              staging == Staging::Off                        ? "each layer read when it starts"
              : staging == Staging::Copy || !rt.device.is_cpu() ? "the next layer copied to the device meanwhile"
                                                                 : "the next layer read ahead meanwhile");
  if (!model->stagingFailure().empty()) std::printf("staging stopped       %s\n", model->stagingFailure().c_str());
  std::printf("calibration           %lld x %lld tokens, %s\n", static_cast<long long>(sequences),
              static_cast<long long>(length), options.allTokens ? "every expert on every token" : "routed only");
  std::printf("analysis time         %.2f s (%.2f s in expert evaluation)\n", r.seconds, r.expertSeconds);
  std::printf("  statistics          %.2f s (the sums' means and the weight Gram)\n", r.statsSeconds);
  const double rest = r.seconds - r.expertSeconds - r.statsSeconds;
  std::printf("  rest of the layers  %.2f s (attention, shared experts, routing, weight streaming)\n", rest);
  {
    // The rest, by the forward pass' own clock (on a GPU: the time to queue the work).
    const ForwardTimes& f = r.forward;
    const double observersRest = f.observers - r.expertSeconds - r.statsSeconds;
    const double other =
        rest - f.attention - f.blockBuild - f.routing - f.moeOutput - f.denseMlp - f.staging - observersRest;
    std::printf("    of which          attention %.2f s, building MoE blocks %.2f s, routing %.2f s, shared experts\n"
                "                      %.2f s, dense MLPs %.2f s, waiting for staging %.2f s, the rest of the\n"
                "                      statistics %.2f s, other %.2f s%s\n",
                f.attention, f.blockBuild, f.routing, f.moeOutput, f.denseMlp, f.staging, observersRest, other,
                rt.device.is_cpu() ? "" : " (host clock: queued work)");
  }
  std::printf("tokens/s              %.1f (calibration tokens through the whole stack)\n", ids.numel() / r.seconds);
  std::printf("expert evaluation     %.1f GFLOP/s\n", achieved);
  std::printf("matmul peak           %.1f GFLOP/s ([%lld x %lld] x [%lld x %lld], %s, this run)\n", peak,
              static_cast<long long>(peakRows), static_cast<long long>(cfg.hiddenSize),
              static_cast<long long>(cfg.hiddenSize), static_cast<long long>(peakWidth),
              viaFloat ? "fp32: the kernel the analysis uses for this dtype here" : "same dtype");
  if (viaFloat)
    std::printf("native product        %.1f GFLOP/s (libtorch's own %s product of the same shape, not used)\n",
                nativePeak, rt.dtype == at::kHalf ? "fp16" : "bf16");
  std::printf("expert grouping       %s\n", options.expertGroupWidth > 0 && options.allTokens
                                                 ? ("up to " + std::to_string(options.expertGroupWidth) +
                                                    " hidden units per product").c_str()
                                                 : "one expert per product");
  std::printf("ratio                 %.2f\n", peak > 0 ? achieved / peak : 0.0);
  std::printf("peak resident memory  %.2f GB\n", usage.ru_maxrss / 1024.0 / 1024.0);
  if (!quantDir.empty()) {
    // The same analysis of the quantized twin, on the same tokens: the cost of dequantizing while streaming.
    auto qmodel = Model::open(quantDir, rt);
    ProgressLine qline;
    const AnalysisResult q = runAnalysis(*qmodel, ids, options, nullptr, [&](const AnalysisProgress& p) {
      qline.update(quant + " layer " + std::to_string(p.layer + 1) + "/" + std::to_string(p.numLayers));
    });
    qline.finish();
    std::printf("%-21s %s\n", (quant + " model").c_str(), quantDir.c_str());
    std::printf("%-21s %.2f s\n", (quant + " analysis").c_str(), q.seconds);
    std::printf("%-21s %.2f (quantized / BF16 checkpoint, same tokens and runtime)\n", (quant + " time ratio").c_str(),
                r.seconds > 0 ? q.seconds / r.seconds : 0.0);
  }
  return 0;
}

}  // namespace moe::cli
