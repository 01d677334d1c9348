#pragma once
// End-to-end quality of the current plan on held-out text (core/eval/evaluate.h): what to measure
// and what came out. Passed to the measure worker by value; no torch.
#include <QMetaType>
#include <QString>
#include <cstdint>
#include <vector>

#include "core/merge/plan.h"

namespace moe {
namespace gui {

struct MeasureRequest {
  QString modelDir;
  QString evalText;     // .jsonl / .txt / .npy / FILE.h5:DATASET, tokenized with the model's tokenizer
  int sequences = 8;    // the first sequences x length tokens: seconds on the demo model
  int length = 256;
  moe::MergePlan plan;  // merged in tied and in compact semantics
  // Free-running agreement (core's heldOutGenerationAgreement, as `compare --gen-prompts`): greedy
  // continuations of the first genPrompts evaluation sequences cut to core's prefix length, by the
  // original and by each variant. 0: not measured.
  int genPrompts = 0;
  // The analysis' calibration tokens [sequences, length]: neuron alignment runs on them.
  std::vector<int64_t> calibTokens, calibShape;
};

struct MeasureResult {
  double originalPerplexity = 0;
  double tiedPerplexity = 0, tiedKl = 0;        // router kept, experts mapped to merged weights
  double compactPerplexity = 0, compactKl = 0;  // K experts, averaged router rows
  // Teacher-forced top-1 agreement with the original (fraction of positions with the same most
  // probable next token).
  double tiedTop1 = 0, compactTop1 = 0;
  // Free-running agreement with the original (when requested): mean identical prefix (tokens) and
  // mean token-level ROUGE-L over genPromptsUsed prompts.
  bool hasGeneration = false;
  double tiedPrefix = 0, tiedRougeL = 0, compactPrefix = 0, compactRougeL = 0;
  qint64 genPromptsUsed = 0;
  qint64 predictedTokens = 0;
  double seconds = 0;
};

// The evaluation settings (Settings dialog): text (default: the demo's held-out eval.jsonl),
// sequences, length and generation prompts (default 8, as `compare`; 0: off).
MeasureRequest configuredMeasureRequest();

}  // namespace gui
}  // namespace moe

Q_DECLARE_METATYPE(moe::gui::MeasureResult)
