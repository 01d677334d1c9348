#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/arch/architecture.h"
#include "core/engine/synth.h"
#include "core/error.h"

namespace moe::cli {

int cmdSynth(const Argv& argv) {
  Args args(argv, {"arch", "layers", "hidden", "experts", "top-k", "expert-intermediate", "dense-intermediate",
                   "shared-intermediate", "heads", "kv-heads", "vocab", "seed", "shard-mb", "out", "quant", "fp8-block"},
            {});
  SynthSpec s;
  constexpr int64_t kMax = int64_t{1} << 24;  // far beyond any real model; keeps products from overflowing
  s.arch = args.choice("arch", supportedArchitectures().front(), supportedArchitectures());
  s.layers = args.getInt("layers", s.layers, 1, 4096);
  s.hidden = args.getInt("hidden", s.hidden, 1, kMax);
  s.experts = args.getInt("experts", s.experts, 1, 65536);
  s.topK = args.getInt("top-k", s.topK, 1, s.experts);
  s.expertIntermediate = args.getInt("expert-intermediate", s.expertIntermediate, 1, kMax);
  s.denseIntermediate = args.getInt("dense-intermediate", s.denseIntermediate, 0, kMax);
  s.sharedIntermediate = args.getInt("shared-intermediate", s.sharedIntermediate, 0, kMax);
  s.heads = args.getInt("heads", s.heads, 1, 65536);
  s.kvHeads = args.getInt("kv-heads", s.kvHeads, 0, s.heads);  // 0 (default): the architecture's choice
  s.vocab = args.getInt("vocab", s.vocab, 1, kMax);
  s.seed = static_cast<uint64_t>(args.getInt("seed", 0));
  s.shardBytes = args.getInt("shard-mb", 2048, 1, int64_t{1} << 30) << 20;
  const std::string quant = args.choice("quant", "none", {"none", "fp8", "mxfp4"});
  s.quant = quant == "none" ? "" : quant;
  if (args.has("fp8-block") && quant != "fp8")
    throw Error(ErrorKind::InvalidArgument, "--fp8-block applies to --quant fp8 only");
  s.fp8BlockRows = s.fp8BlockCols = args.getInt("fp8-block", 128, 1, kMax);
  const std::string out = args.get("out");
  writeSyntheticModel(s, out, [](int64_t done, int64_t total) {
    std::fprintf(stderr, "\rwriting %.1f / %.1f MB", done / 1e6, total / 1e6);
  });
  std::fprintf(stderr, "\n");
  std::printf("wrote a random %s%s checkpoint (%lld layers, hidden %lld, %lld experts of %lld, top-%lld) to %s\n",
              s.arch.c_str(), s.quant.empty() ? "" : (" " + s.quant).c_str(), static_cast<long long>(s.layers), static_cast<long long>(s.hidden),
              static_cast<long long>(s.experts), static_cast<long long>(s.expertIntermediate),
              static_cast<long long>(s.topK), out.c_str());
  return 0;
}

}  // namespace moe::cli
