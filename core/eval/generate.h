#pragma once
// Text generation from a model or a merged variant of it, for previews before export: what the
// original and a plan's merge write from the same prompts.
//
// Decoding keeps a KV cache where the architecture supports one (Architecture::supportsKvCache),
// and decodes a batch of prompts in lock step: the prompts are left-padded to one length, so each
// step is one forward call over the whole batch and a layer-streamed model reads each layer's
// weights once per step, not once per prompt. A resident model (Model::setResident) keeps its
// weights, and the variant's merged blocks are built once. Without a cache (or when asked for the
// reference path) every step recomputes each prompt's whole sequence, one prompt at a time.
//
// Next-token rule: greedy (temperature 0), or temperature + nucleus (top-p) sampling from a seeded
// generator. SCMoE (Shi et al., 2024) contrasts the usual "strong" routing with a "weak" one of the
// same model: scores = log p_strong + beta (log p_strong - log p_weak) over the tokens whose strong
// probability is at least alpha times the largest; the other tokens are excluded.
#include <ATen/ATen.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/engine/model.h"

namespace moe {

struct ScmoeOptions {
  bool enabled = false;
  double beta = 0.5;   // contrast strength; 0 gives the strong model's own scores
  double alpha = 0.1;  // plausibility cut, relative to the most probable strong token
  // The weak routing: the block's top-k cut to weakTopK, or, when weakRank > 0, only the expert
  // the rule ranks weakRank-th (the paper's rank-k routing).
  int64_t weakTopK = 1;
  int64_t weakRank = 0;
};

struct GenerateOptions {
  int64_t maxNewTokens = 32;
  double temperature = 0;  // 0: greedy
  double topP = 1.0;       // nucleus sampling mass, (0, 1]
  uint64_t seed = 0;
  std::vector<int64_t> stopIds;  // a continuation ends after one of these (EOS); empty: never
  ScmoeOptions scmoe;
  bool useCache = true;    // false: recompute every step (the reference the cache is tested against)
  int64_t batchSize = 8;   // prompts decoded in lock step
};

struct Continuation {
  std::vector<int64_t> tokens;  // new tokens only
  bool stopped = false;         // ended on a stop id before maxNewTokens
};

struct GenerateStats {
  double prefillSeconds = 0, decodeSeconds = 0;
  int64_t newTokens = 0;  // over all prompts
  bool cached = false;    // whether the KV-cache path ran
};

struct GenerateCallbacks {
  std::function<void(size_t prompt, int64_t token)> onToken;  // each new token, as it is chosen
  std::function<void(int64_t stepsDone, int64_t stepsTotal)> onStep;
  const std::atomic<bool>* cancel = nullptr;  // checked before every step and layer (throws Cancelled)
};

// The model variant to decode: `moeOverride` replaces MoE blocks as in ForwardOptions (merges);
// empty: the model as it is.
using MoeOverride = std::function<void(int moeIndex, MoeBlock& block)>;

// Whether keeping the model resident (Model::setResident) is sensible: its weights in the runtime's
// dtype take at most half of the memory the system reports available (MemAvailable; false where
// that is unknown).
bool residentFits(const Model& model);

// Checks the request before any work: at least one prompt, none empty, ids in the vocabulary,
// maxNewTokens >= 1, prompt + new tokens within max_position_embeddings, sampling parameters in
// range. Throws InvalidArgument naming what is wrong (and the prompt's index).
void validateGenerateRequest(const Model& model, const std::vector<std::vector<int64_t>>& prompts,
                             const GenerateOptions& options);

std::vector<Continuation> generate(Model& model, const std::vector<std::vector<int64_t>>& prompts,
                                   const GenerateOptions& options, const MoeOverride& moeOverride = {},
                                   const GenerateCallbacks& callbacks = {}, GenerateStats* stats = nullptr);

// Held-out next-token accuracy of a variant (teacher-forced over ids [N, T]): the fraction of
// positions where the most probable token is the text's next one, plainly and under SCMoE's scores.
// How much self-contrast wins back is measured by the difference.
struct NextTokenAccuracy {
  double plain = 0, scmoe = 0;
  int64_t predicted = 0;
};
NextTokenAccuracy nextTokenAccuracy(Model& model, const at::Tensor& ids, const MoeOverride& variant,
                                    const ScmoeOptions& scmoe);

// The next token from one row of scores: the SCMoE combination when weakLogits is defined, then
// greedy or sampled with `uniform` in [0, 1). Exposed for tests.
// scmoeScores works row-wise on [..., V].
at::Tensor scmoeScores(const at::Tensor& strongLogits, const at::Tensor& weakLogits, const ScmoeOptions& options);
int64_t chooseToken(const at::Tensor& scores, double temperature, double topP, double uniform);

}  // namespace moe
