// moescope-cli: the one place where core errors are caught and turned into messages and exit codes.
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "app/cli/commands.h"
#include "core/error.h"

namespace {

struct Command {
  std::function<int(const moe::cli::Argv&)> run;
  const char* usage;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table{
      {"merge",
       {moe::cli::cmdMerge,
        "merge --model DIR (--analysis A.h5 | --calib FILE) (--plan P.json | --experts K | --budget TOTAL | --height H)\n"
        "        [--linkage single|complete|average|ward --basis expert_output|expert_output_routed|router_logits|weights]\n"
        "        [--metric euclidean|cosine --grouping clustering|random --seed S]\n"
        "        [--strategy frequency|average|dominant|ream|f-prune|reap]   ream: top-K REAP experts as centroids, the\n"
        "        others join the nearest by expert output, neuron-aligned frequency merge, centroids' router rows\n"
        "        [--align-neurons | --no-align-neurons] [--align-tokens N (4096)]   permute each member's neurons onto\n"
        "        its group's reference before averaging (frequency, average, ream; on by default for ream)\n"
        "        [--format compact|expert-map --router average|frequency|lse-fit|soft-fit|tied-fit]\n"
        "        [--fit-tokens N (8192) --no-refine (tied-fit without its output-matching stage)]\n"
        "        [--layer-errors] [--eval-text FILE --eval-sequences N (64) --eval-length L (256)]   metrics for the\n"
        "        console and the model card: each block's output error on the calibration tokens, held-out perplexity/KL\n"
        "        [--first-unmerged N --save-plan P.json --shard-mb MB (5000) --device auto|cpu|cuda --dtype fp32|bf16]\n"
        "        [--precision source|bf16]   what the export stores: the source's own precision (a quantized\n"
        "        checkpoint stays FP8 / MXFP4), or BF16 throughout\n"
        "        --out DIR   Writes the merged checkpoint (temporary folder, renamed into place; stale temporary\n"
        "        folders of a killed export to the same DIR are removed)."}},
      {"compare",
       {moe::cli::cmdCompare,
        "compare --model DIR (--analysis A.h5 | --calib FILE) --text FILE [--experts 12,8,4 --eval-sequences N]\n"
        "        [--routers average,frequency,lse-fit,soft-fit,tied-fit --fit-tokens N --no-refine] [--markdown]\n"
        "        [--align-neurons --align-tokens N]   also HC-SMoE with neuron alignment and REAM without it\n"
        "        [--gen-prompts N (8; 0: off) --gen-prefix P (16) --gen-tokens M (32)]   greedy continuations of the\n"
        "        first P tokens of N held-out sequences: mean identical prefix and ROUGE-L against the original\n"
        "        [--scmoe]   held-out next-token accuracy, plain and with SCMoE (beta 0.5, alpha 0.1, weak top-1)\n"
        "        Perplexity, KL, teacher-forced top-1 agreement, generation agreement and memory of HC-SMoE, REAM and\n"
        "        the baselines at each K."}},
      {"generate",
       {moe::cli::cmdGenerate,
        "generate --model DIR (--prompt TEXT | --prompts FILE [--field text]) [--ids (prompts are token ids)]\n"
        "        (--plan P.json | (--analysis A.h5 | --calib FILE) (--experts K | --budget TOTAL | --height H) [merge's\n"
        "        plan options: --linkage --basis --metric --strategy --router --align-neurons ...] | --original-only)\n"
        "        [--forms tied,compact] [--max-new-tokens N (32) --temperature T (0: greedy) --top-p P (1) --sample-seed S]\n"
        "        [--scmoe --scmoe-beta B (0.5) --scmoe-alpha A (0.1) (--weak-top-k K (1) | --weak-rank R)]   self-contrast\n"
        "        decoding: log p + B (log p - log p_weak) over tokens with p >= A max p\n"
        "        [--batch N (8: prompts decoded in lock step) --no-cache --resident auto|on|off --device --dtype]\n"
        "        The continuations of the original model and of the plan's merge, side by side, where each merged one\n"
        "        first differs from the original, and the mean identical prefix and ROUGE-L over the prompts."}},
      {"eval",
       {moe::cli::cmdEval,
        "eval --model DIR --text FILE [--length L (256) --sequences N] [--device --dtype]\n"
        "        Perplexity on held-out text (each document + EOS, concatenated, cut into L-token sequences)."}},
      {"forward",
       {moe::cli::cmdForward,
        "forward --model DIR (--ids FILE.h5:DATASET | --text FILE [--sequences N --length L]) --out OUT.h5\n"
        "        [--device auto|cpu|cuda] [--dtype fp32|bf16] [--threads N]\n"
        "        Runs the model layer by layer; writes logits, hidden_states/i and router_logits/j."}},
      {"analyze",
       {moe::cli::cmdAnalyze,
        "analyze --model DIR --calib SOURCE --out ANALYSIS.h5 [--sequences N --length L --random-windows --seed S]\n"
        "        [--field text --tokenizer FILE --stat all|routed --device auto|cpu|cuda --dtype fp32|bf16 --overwrite]\n"
        "        [--nproc N | --distributed] [--dist-timeout S (1800)]   split the calibration sequences over N local\n"
        "        processes (Gloo on CPU), or join a group set up by MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE; rank 0\n"
        "        writes the store\n"
        "        [--staging off|auto|copy]   how the next layer's weights are read while the current one computes\n"
        "        [--first-look N]   first the first N sequences into ANALYSIS.first-look.h5 (open it at once), then the\n"
        "        full analysis, then how many blocks' groups at K = E/2 the first look had right\n"
        "        HC-SMoE statistics of every MoE block (resumes an interrupted ANALYSIS.h5)."}},
      {"cluster",
       {moe::cli::cmdCluster,
        "cluster ANALYSIS.h5 (--experts K | --budget TOTAL | --height H) [--linkage single|complete|average|ward]\n"
        "        [--basis expert_output|expert_output_routed|router_logits|weights --metric euclidean|cosine]\n"
        "        [--layers 0,2-5] [--json]   Expert groups per MoE block."}},
      {"bench",
       {moe::cli::cmdBench,
        "bench [--layers N --sequences N --length L --dtype fp32|bf16 --device auto|cpu|cuda --routed --chunk N]\n"
        "        [--shape qwen1.5|qwen3|olmoe|deepseek (layer shapes of those models)] [--group-width W (2048; 0: one\n"
        "        expert per product)] [--staging off|auto|copy (auto: the next layer read ahead, or copied to a GPU,\n"
        "        while the current one computes)] [--cold (the model's files dropped from the page cache first)]\n"
        "        [--model-dir DIR (created as a synthetic model of --shape when it holds none; an existing model\n"
        "        is benchmarked as it is)]   Analysis benchmark: tokens/s, GFLOP/s vs matmul peak, memory."}},
      {"synth",
       {moe::cli::cmdSynth,
        "synth --arch ARCH --out DIR [--layers N --hidden H --experts E --top-k K --expert-intermediate I\n"
        "        --dense-intermediate I --shared-intermediate I --heads N --kv-heads N --vocab V --seed S --shard-mb MB]\n"
        "        [--quant none|fp8|mxfp4 --fp8-block N (128)]   quantized like the published checkpoints: FP8 block\n"
        "        (any architecture) or MXFP4 experts (fused input-major ones, gpt-oss)\n"
        "        Writes a random checkpoint of any supported architecture in its real on-disk layout."}},
  };
  return table;
}

// Exit codes, so that scripts can tell a mistake in the command line from a failure of the work.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;   // the command ran and failed: I/O, malformed or stale files, unsupported model
constexpr int kExitUsage = 2;     // the command line is wrong: unknown command or option, bad or missing value
constexpr int kExitInternal = 3;  // an unexpected exception (a bug)
constexpr int kExitCancelled = 130;

const char* kExitCodesHelp =
    "exit codes:\n"
    "  0    success\n"
    "  1    runtime failure (I/O, malformed or stale input files, unsupported model or device)\n"
    "  2    usage error (unknown command or option, missing or invalid value, K out of range)\n"
    "  3    internal error\n"
    "  130  cancelled\n";

void printUsage(FILE* to) {
  std::fprintf(to, "usage: moescope-cli COMMAND [options]   (moescope-cli COMMAND --help for one command)\n\ncommands:\n");
  for (auto& [name, cmd] : commands()) std::fprintf(to, "  %s\n", cmd.usage);
  std::fprintf(to, "\n%s", kExitCodesHelp);
}

int exitCodeFor(moe::ErrorKind kind) {
  switch (kind) {
    case moe::ErrorKind::InvalidArgument: return kExitUsage;
    case moe::ErrorKind::Cancelled: return kExitCancelled;
    default: return kExitFailure;
  }
}

bool asksForHelp(int argc, char** argv) {
  for (int i = 2; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    printUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::fprintf(stderr, "moescope-cli: unknown command '%s'\n\n", argv[1]);
    printUsage(stderr);
    return kExitUsage;
  }
  if (asksForHelp(argc, argv)) {
    std::printf("usage: moescope-cli %s\n\n%s", it->second.usage, kExitCodesHelp);
    return kExitOk;
  }
  try {
    return it->second.run(moe::cli::Argv(argv + 2, argv + argc));
  } catch (const moe::Error& e) {
    std::fprintf(stderr, "moescope-cli %s: %s: %s\n", argv[1], moe::errorKindName(e.kind()), e.what());
    if (e.kind() == moe::ErrorKind::InvalidArgument)
      std::fprintf(stderr, "(moescope-cli %s --help shows its options)\n", argv[1]);
    return exitCodeFor(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moescope-cli %s: internal error: %s\n", argv[1], e.what());
    return kExitInternal;
  }
}
