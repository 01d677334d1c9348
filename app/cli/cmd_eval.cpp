#include <cstdint>
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/engine/token_source.h"
#include "core/eval/evaluate.h"

namespace moe::cli {

int cmdEval(const Argv& argv) {
  Args args(argv, {"model", "text", "length", "sequences", "field", "tokenizer", "device", "dtype", "threads"}, {});
  initThreads(static_cast<int>(args.getInt("threads", 0)));
  const Runtime rt = Runtime::make(args.get("device", "auto"), args.get("dtype", "fp32"));
  auto model = Model::open(args.get("model"), rt);
  TokenSourceOptions src;
  src.length = args.getInt("length", 256, 2, INT32_MAX);
  src.read.textField = args.get("field", "text");
  src.tokenizerPath = args.get("tokenizer", "");
  // Default protocol: every consecutive non-overlapping sequence of the text; --sequences N keeps the first N.
  src.allSequences = !args.has("sequences");
  src.sequences = args.getInt("sequences", 1, 1, INT32_MAX);
  at::Tensor ids = loadTokenIds(args.get("text"), model->folder(), src);
  const EvalResult r = evaluate(*model, ids);
  std::printf("model       %s\n", model->folder().c_str());
  std::printf("text        %s: %lld sequences of %lld tokens (%lld predicted)\n", args.get("text").c_str(),
              static_cast<long long>(ids.size(0)), static_cast<long long>(ids.size(1)),
              static_cast<long long>(r.predicted));
  std::printf("perplexity  %.3f (mean NLL %.4f nats)\n", r.perplexity, r.meanNll);
  std::printf("time        %.1f s on %s\n", r.seconds, rt.describe().c_str());
  return 0;
}

}  // namespace moe::cli
