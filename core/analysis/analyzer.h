#pragma once
// The HC-SMoE statistics pass: calibration tokens stream through the model one decoder layer at a
// time, and every MoE block's statistics are computed from what the block saw (its input, router
// logits and routing) while that layer's weights are in memory. Results go to the analysis store
// layer by layer, so a cancelled or interrupted analysis keeps its finished layers and resumes.
#include <ATen/ATen.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <functional>
#include <string>
#include <vector>

#include "core/analysis/layer_stats.h"
#include "core/engine/model.h"
#include "core/engine/token_source.h"

namespace moe {

class AnalysisStore;

struct AnalysisOptions {
  // The paper's representation applies every expert to every calibration token. The cheaper
  // option (false) evaluates each expert on its routed tokens only (no all-token means then).
  bool allTokens = true;
  int64_t tokenChunk = 4096;  // tokens per expert evaluation batch (bounds the [chunk, I] buffer)
  // Also call the progress function after every expert of a block (an interactive progress bar),
  // not only after every decoder layer. Cancellation is checked between experts either way.
  bool progressPerExpert = false;
};

struct AnalysisProgress {
  int moeDone = 0, moeTotal = 0;  // MoE blocks finished / in the model
  int layer = 0, numLayers = 0;   // decoder layer just finished
  int64_t tokens = 0;             // calibration tokens per layer
  double elapsedSeconds = 0, tokensPerSecond = 0, etaSeconds = 0;
  // Per-expert events (AnalysisOptions::progressPerExpert): the block of decoder layer
  // `computingLayer` has evaluated `expertsDone` of its `expertsTotal` experts; layer and moeDone
  // still describe the last finished layer (-1 and 0 before the first). Zero after a layer.
  int computingLayer = -1;
  int64_t expertsDone = 0, expertsTotal = 0;
};
using AnalysisProgressFn = std::function<void(const AnalysisProgress&)>;

struct AnalysisResult {
  std::vector<LayerStats> layers;  // computed in this run (resumed layers are read from the store)
  int resumedLayers = 0;
  double seconds = 0;
  double expertFlops = 0;    // floating-point operations of expert evaluation
  double expertSeconds = 0;  // time spent in expert evaluation
};

// Statistics of one block from what it saw during a forward pass. `flops` and `seconds`, when
// given, accumulate the expert-evaluation work. `cancel` is checked before every expert (a block of
// a large model takes minutes): Cancelled is thrown before the next expert starts. `afterExpert`,
// when given, is called with (experts done, experts) after each one.
LayerStats computeLayerStats(const MoeTrace& trace, const std::string& prefix, const AnalysisOptions& options,
                             double* flops = nullptr, double* seconds = nullptr,
                             const std::atomic<bool>* cancel = nullptr,
                             const std::function<void(int64_t, int64_t)>& afterExpert = {});

// The settings record of an analysis (the store's `settings` attribute), built the same way by
// the CLI and the explorer: calibration source, sequences, length, random windows and seed, text
// field, tokenizer, statistic ("all" | "routed") and dtype.
nlohmann::json analysisSettings(const std::string& calibration, const TokenSourceOptions& source,
                                const AnalysisOptions& options, const std::string& dtype);

// The store header of an analysis of `model` on `ids` (fingerprints and model manifest, layer
// kinds, the tokens); `settings` gets the actual [sequences, length] of `ids`. Resuming is decided
// on it by resume.h.
struct AnalysisInfo;
AnalysisInfo describeAnalysis(const Model& model, const at::Tensor& ids, const nlohmann::json& settings);

// Runs the pass over `ids` [B, T]. With a store, finished layers are skipped and new ones written.
// Cancellation is checked between decoder layers and between the experts of a block; a block
// cancelled half-way is not written (a resumed run computes it again).
AnalysisResult runAnalysis(Model& model, const at::Tensor& ids, const AnalysisOptions& options,
                           AnalysisStore* store = nullptr, const AnalysisProgressFn& progress = {},
                           const std::atomic<bool>* cancel = nullptr);

}  // namespace moe
