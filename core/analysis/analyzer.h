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
  // All-token statistics evaluate consecutive experts together, up to this many hidden units per
  // product (narrow experts: 2048 / 128 = 16 at a time); 0 evaluates one expert at a time. The
  // [chunk, width] buffer it needs is bounded the same way as tokenChunk's.
  int64_t expertGroupWidth = 2048;
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
  double statsSeconds = 0;   // time spent forming the statistics from the sums (mostly the weight Gram)
  ForwardTimes forward;      // the forward pass' share (its `observers` include the two above)
};

// Statistics of one block from its input and routing during a forward pass (the trace's output is
// not read). `flops` and `seconds`, when given, accumulate the expert-evaluation work. `cancel` is
// checked before every expert, or group of experts evaluated together (a block of a large model
// takes minutes): Cancelled is thrown before the next one starts. `afterExpert`, when given, is
// called with (experts done, experts) after each one. `routedOut`, when given, receives the block's
// routed output (MoeBlock::combine) summed from the expert outputs computed here; it stays
// undefined where those are not its terms (routing weights that scale the experts' inputs).
LayerStats computeLayerStats(const MoeTrace& trace, const std::string& prefix, const AnalysisOptions& options,
                             double* flops = nullptr, double* seconds = nullptr,
                             const std::atomic<bool>* cancel = nullptr,
                             const std::function<void(int64_t, int64_t)>& afterExpert = {},
                             at::Tensor* routedOut = nullptr);

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

// runAnalysis split over the processes of `comm` (core/analysis/distributed.h). `share` is this
// rank's calibration sequences (shardSequences), `totalTokens` those of all ranks (progress).
// After every MoE block the token sums (selections, routing probabilities, logit Gram, expert
// outputs and hidden activations, REAP sums, tokens) are all-reduced, then turned into means, so
// the statistics equal a single-process run's up to floating-point rounding. `skip` (per MoE
// block, the same on every rank: rank 0 reads it from its store and broadcasts it) names blocks
// finished earlier; `store` is rank 0's (the only writer), null elsewhere. Only rank 0 computes
// weight Grams (the layers other ranks return have none). A cancel on any rank stops all of them at
// the same block's all-reduce (within one block: the other ranks finish theirs first).
class Communicator;
AnalysisResult runAnalysisDistributed(Model& model, const at::Tensor& share, int64_t totalTokens,
                                      const AnalysisOptions& options, Communicator& comm,
                                      const std::vector<bool>& skip, AnalysisStore* store = nullptr,
                                      const AnalysisProgressFn& progress = {},
                                      const std::atomic<bool>* cancel = nullptr);

}  // namespace moe
