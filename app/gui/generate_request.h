#pragma once
// The Try-it panel's generation job (core/eval/generation_preview.h): what to decode and what came
// back, as plain std / Qt types. moc sees this header, so moe::GenerateOptions (ATen) stays out:
// the worker translates these fields into it.
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <vector>

#include "core/merge/plan.h"

namespace moe {
namespace gui {

struct GenerateRequest {
  QString modelDir;
  QStringList prompts;  // text, tokenized with the tokenizer.json beside the model
  int maxNewTokens = 32;
  double temperature = 0;  // 0: greedy
  double topP = 1.0;
  quint64 seed = 0;
  // SCMoE (moe::ScmoeOptions): weakRank > 0 selects rank-k weak routing, else top-weakTopK.
  bool scmoe = false;
  double scmoeBeta = 0.5, scmoeAlpha = 0.1;
  int weakTopK = 1, weakRank = 0;
  // The plan's variants (tied and compact, as `moescope generate`); false: the original only.
  bool withPlan = true;
  moe::MergePlan plan;
  // The analysis' calibration tokens [sequences, length], for compact routers fitted on them.
  std::vector<int64_t> calibTokens, calibShape;
};

// One continuation as the panel shows it: the tokens so far, and their text split where they first
// leave the original's (the `diverged` part is highlighted). divergence -1: none (yet).
struct GeneratedCell {
  std::vector<int64_t> tokens;
  QString same, diverged;
  int divergence = -1;
  bool stopped = false;  // ended on the end-of-text token
};

struct GeneratedVariant {
  QString name;
  std::vector<GeneratedCell> cells;  // one per prompt
  double meanIdenticalPrefix = 0, meanRougeL = 0;  // against the original (first variant)
  double tokensPerSecond = 0;
};

struct GenerateResult {
  std::vector<GeneratedVariant> variants;
  double seconds = 0;
};

}  // namespace gui
}  // namespace moe

Q_DECLARE_METATYPE(moe::gui::GenerateRequest)
Q_DECLARE_METATYPE(moe::gui::GeneratedCell)
Q_DECLARE_METATYPE(moe::gui::GenerateResult)
