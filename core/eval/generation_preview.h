#pragma once
// The generation preview the CLI (`generate`) and the explorer's Try-it panel share: the same
// prompts decoded by the original model and by each merged variant, and how far each variant's
// continuations follow the original's.
#include <string>
#include <vector>

#include "core/eval/agreement.h"
#include "core/eval/generate.h"
#include "core/text/tokenizer.h"

namespace moe {

// Prompts from a file: a JSON-lines file's `textField` strings, or a plain-text file's
// blank-line-separated paragraphs (core/text/calibration.h's readers). An empty file is an error
// naming it.
std::vector<std::string> readPrompts(const std::string& path, const std::string& textField = "text");

// Each prompt tokenized without special tokens; an empty result is an error naming the prompt.
std::vector<std::vector<int64_t>> tokenizePrompts(const Tokenizer& tokenizer, const std::vector<std::string>& prompts);

struct PreviewVariant {
  std::string name;     // "original", "tied", "compact", ...
  MoeOverride override; // empty: the model as it is
};

struct PreviewResult {
  std::string name;
  std::vector<Continuation> continuations;  // one per prompt
  GenerateStats stats;
  // Against the first variant (the original): per prompt the index of the first new token that
  // differs (-1: none within the shorter continuation), and the means.
  std::vector<int64_t> firstDivergence;
  FreeRunningAgreement agreement;
};

// Decodes the prompts with every variant in turn (the first one is the reference), reporting the
// tokens of variant v through onToken(v, prompt, token).
struct PreviewCallbacks {
  std::function<void(size_t variant, size_t prompt, int64_t token)> onToken;
  std::function<void(size_t variant, int64_t stepsDone, int64_t stepsTotal)> onStep;
  const std::atomic<bool>* cancel = nullptr;
};
std::vector<PreviewResult> generationPreview(Model& model, const std::vector<std::vector<int64_t>>& prompts,
                                             const GenerateOptions& options, const std::vector<PreviewVariant>& variants,
                                             const PreviewCallbacks& callbacks = {});

// Free-running agreement on held-out text (the metric `compare`, `merge --eval-text` and the model
// card report): the first `prompts` sequences of evalIds [N, T] cut to `prefix` tokens are the
// prompts; the original's and the variant's greedy continuations of `newTokens` tokens (no stop id)
// are compared. `reference` may carry the original's continuations from an earlier call (empty:
// they are generated and stored there). `callbacks` go to both decodes (the GUI's cancel flag:
// Cancelled is thrown before the next step or layer).
struct HeldOutGenerationOptions {
  int64_t prompts = 8, prefix = 16, newTokens = 32;
};
std::vector<std::vector<int64_t>> heldOutPrompts(const at::Tensor& evalIds, const HeldOutGenerationOptions& options);
FreeRunningAgreement heldOutGenerationAgreement(Model& model, const at::Tensor& evalIds, const MoeOverride& variant,
                                                const HeldOutGenerationOptions& options,
                                                std::vector<std::vector<int64_t>>& reference,
                                                const GenerateCallbacks& callbacks = {});

}  // namespace moe
