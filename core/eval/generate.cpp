#include "core/eval/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <set>
#include <limits>
#include <numeric>
#include <random>

#include "core/error.h"

namespace moe {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Catches the final (normed) hidden state and relays the cancel flag to the engine's per-layer check.
class HiddenCatcher : public ForwardObserver {
 public:
  HiddenCatcher(int finalIndex, const std::atomic<bool>* cancel) : final_(finalIndex), cancel_(cancel) {}
  void onHiddenState(int i, const at::Tensor& h) override {
    if (i == final_) hidden = h;
  }
  bool cancelled() const override { return cancel_ && cancel_->load(); }
  at::Tensor hidden;

 private:
  int final_;
  const std::atomic<bool>* cancel_;
};

void throwIfCancelled(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load()) throw Error(ErrorKind::Cancelled, "generation cancelled");
}

// The weak routing of SCMoE applied to a block (its weights are shared, not copied).
void weaken(MoeBlock& block, const ScmoeOptions& o) {
  if (o.weakRank > 0) {
    block.routing.onlyRank = std::min<int64_t>(o.weakRank, block.numExperts());
  } else {
    block.routing.topK = std::min<int64_t>(o.weakTopK, block.routing.topK);
  }
}

// One decoding variant (strong, or SCMoE's weak): how its forward calls are made.
struct Variant {
  ForwardOptions options;
  std::vector<MoeBlock> blocks;  // resident: built once
};

Variant makeVariant(Model& model, const MoeOverride& moeOverride, const ScmoeOptions* weak) {
  Variant v;
  if (model.resident()) {
    for (int j = 0; j < static_cast<int>(model.moeLayers().size()); ++j) {
      MoeBlock b = model.moeBlock(j);
      model.releaseLayerPages(model.moeLayers()[static_cast<size_t>(j)]);  // the block holds copies
      if (moeOverride) moeOverride(j, b);
      if (weak) weaken(b, *weak);
      v.blocks.push_back(std::move(b));
    }
  } else if (weak) {
    ScmoeOptions o = *weak;
    v.options.moeOverride = [moeOverride, o](int j, MoeBlock& b) {
      if (moeOverride) moeOverride(j, b);
      weaken(b, o);
    };
  } else {
    v.options.moeOverride = moeOverride;
  }
  return v;
}

// Next-token logits [B, V] (fp32) of the last position of `ids` under `variant`.
at::Tensor lastLogits(Model& model, Variant& variant, const at::Tensor& ids, DecodeState* decode,
                      const at::Tensor& head, const std::atomic<bool>* cancel) {
  HiddenCatcher catcher(model.numLayers(), cancel);
  ForwardOptions o = variant.options;
  if (!variant.blocks.empty()) o.blocks = &variant.blocks;
  o.computeLogits = false;
  o.decode = decode;
  model.forward(ids, &catcher, o);
  at::Tensor last = catcher.hidden.select(1, catcher.hidden.size(1) - 1);
  return model.arch().logits(last, head).to(at::kFloat).cpu();
}

// Per prompt, so that a sampled continuation does not depend on how prompts were batched.
double uniformDraw(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

class TokenChooser {
 public:
  TokenChooser(const GenerateOptions& o, size_t prompts) : o_(o) {
    for (size_t i = 0; i < prompts; ++i) rngs_.emplace_back(o.seed * 0x9E3779B97F4A7C15ULL + i);
  }
  int64_t choose(size_t prompt, const at::Tensor& strong, const at::Tensor& weak) {
    const double u = o_.temperature > 0 ? uniformDraw(rngs_[prompt]) : 0.0;
    const at::Tensor scores = weak.defined() ? scmoeScores(strong, weak, o_.scmoe) : strong;
    return chooseToken(scores, o_.temperature, o_.topP, u);
  }

 private:
  const GenerateOptions& o_;
  std::vector<std::mt19937_64> rngs_;
};

bool isStop(const GenerateOptions& o, int64_t token) {
  return std::find(o.stopIds.begin(), o.stopIds.end(), token) != o.stopIds.end();
}

// The reference path: one prompt at a time, the whole sequence recomputed at every step.
void generateUncached(Model& model, const std::vector<std::vector<int64_t>>& prompts, const GenerateOptions& o,
                      Variant& strong, Variant* weak, const at::Tensor& head, TokenChooser& chooser,
                      const GenerateCallbacks& cb, std::vector<Continuation>& out, GenerateStats& stats) {
  const int64_t totalSteps = static_cast<int64_t>(prompts.size()) * o.maxNewTokens;
  int64_t steps = 0;
  for (size_t p = 0; p < prompts.size(); ++p) {
    std::vector<int64_t> seq = prompts[p];
    for (int64_t step = 0; step < o.maxNewTokens; ++step) {
      throwIfCancelled(cb.cancel);
      const auto t0 = Clock::now();
      at::Tensor ids = at::tensor(seq, at::kLong).view({1, -1});
      at::Tensor s = lastLogits(model, strong, ids, nullptr, head, cb.cancel)[0];
      at::Tensor w = weak ? lastLogits(model, *weak, ids, nullptr, head, cb.cancel)[0] : at::Tensor();
      const int64_t token = chooser.choose(p, s, w);
      (step == 0 ? stats.prefillSeconds : stats.decodeSeconds) += secondsSince(t0);
      seq.push_back(token);
      out[p].tokens.push_back(token);
      ++stats.newTokens;
      if (cb.onToken) cb.onToken(p, token);
      if (cb.onStep) cb.onStep(++steps, totalSteps);
      if (isStop(o, token)) {
        out[p].stopped = true;
        steps += o.maxNewTokens - step - 1;
        break;
      }
    }
  }
}

// One lock-step batch of prompts `batch` (indices into prompts) with a KV cache per variant.
void generateCachedBatch(Model& model, const std::vector<std::vector<int64_t>>& prompts,
                         std::vector<size_t> batch, const GenerateOptions& o, Variant& strong, Variant* weak,
                         const at::Tensor& head, TokenChooser& chooser, const GenerateCallbacks& cb,
                         std::vector<Continuation>& out, GenerateStats& stats, int64_t& steps, int64_t totalSteps) {
  int64_t B = static_cast<int64_t>(batch.size()), Tmax = 0;
  for (size_t p : batch) Tmax = std::max<int64_t>(Tmax, static_cast<int64_t>(prompts[p].size()));
  // Left padding: every row's last prompt token sits at index Tmax - 1.
  at::Tensor ids = at::zeros({B, Tmax}, at::kLong), valid = at::zeros({B, Tmax}, at::kBool);
  bool padded = false;
  for (int64_t b = 0; b < B; ++b) {
    const auto& prompt = prompts[batch[static_cast<size_t>(b)]];
    const int64_t pad = Tmax - static_cast<int64_t>(prompt.size());
    padded = padded || pad > 0;
    ids[b].narrow(0, pad, Tmax - pad).copy_(at::tensor(prompt, at::kLong));
    valid[b].narrow(0, pad, Tmax - pad).fill_(true);
  }
  at::Tensor positions = (valid.to(at::kLong).cumsum(1) - 1).clamp_min(0);
  DecodeState strongState, weakState;
  for (DecodeState* s : {&strongState, &weakState}) {
    s->positions = positions;
    if (padded) s->keyValid = valid;
  }
  at::Tensor nextPos = positions.select(1, Tmax - 1) + 1;  // [B]

  throwIfCancelled(cb.cancel);
  auto t0 = Clock::now();
  at::Tensor sLogits = lastLogits(model, strong, ids, &strongState, head, cb.cancel);
  at::Tensor wLogits = weak ? lastLogits(model, *weak, ids, &weakState, head, cb.cancel) : at::Tensor();
  stats.prefillSeconds += secondsSince(t0);

  for (int64_t step = 0; step < o.maxNewTokens; ++step) {
    t0 = Clock::now();
    std::vector<int64_t> chosen(static_cast<size_t>(B));
    std::vector<int64_t> keep;
    for (int64_t b = 0; b < B; ++b) {
      const size_t p = batch[static_cast<size_t>(b)];
      const int64_t token = chooser.choose(p, sLogits[b], weak ? wLogits[b] : at::Tensor());
      chosen[static_cast<size_t>(b)] = token;
      out[p].tokens.push_back(token);
      ++stats.newTokens;
      if (cb.onToken) cb.onToken(p, token);
      if (isStop(o, token)) {
        out[p].stopped = true;
        steps += o.maxNewTokens - step - 1;
      } else {
        keep.push_back(b);
      }
    }
    if (cb.onStep) cb.onStep(steps += B, totalSteps);
    if (keep.empty() || step + 1 == o.maxNewTokens) {
      stats.decodeSeconds += secondsSince(t0);
      break;
    }
    if (static_cast<int64_t>(keep.size()) < B) {  // finished prompts leave the batch
      at::Tensor rows = at::tensor(keep, at::kLong);
      for (DecodeState* s : {&strongState, &weakState}) s->selectRows(rows);
      nextPos = nextPos.index_select(0, rows);
      std::vector<size_t> kept;
      std::vector<int64_t> keptChosen;
      for (int64_t b : keep) {
        kept.push_back(batch[static_cast<size_t>(b)]);
        keptChosen.push_back(chosen[static_cast<size_t>(b)]);
      }
      batch = kept;
      chosen = keptChosen;
      B = static_cast<int64_t>(batch.size());
    }
    throwIfCancelled(cb.cancel);
    at::Tensor next = at::tensor(chosen, at::kLong).view({B, 1});
    for (DecodeState* s : {&strongState, &weakState}) {
      s->positions = nextPos.view({B, 1});
      if (s->keyValid.defined()) s->keyValid = at::cat({s->keyValid, at::ones({B, 1}, at::kBool)}, 1);
    }
    nextPos = nextPos + 1;
    sLogits = lastLogits(model, strong, next, &strongState, head, cb.cancel);
    if (weak) wLogits = lastLogits(model, *weak, next, &weakState, head, cb.cancel);
    stats.decodeSeconds += secondsSince(t0);
  }
}

}  // namespace

bool residentFits(const Model& model) {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kb = -1;
  while (meminfo >> key) {
    if (key == "MemAvailable:") {
      meminfo >> kb;
      break;
    }
    meminfo.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  if (kb <= 0) return false;
  std::set<std::string> logical;  // a quantized tensor's scales and blocks stand for one tensor
  for (const auto& name : model.store().names()) logical.insert(model.store().logicalNameOf(name));
  int64_t elements = 0;
  for (const auto& name : logical) {
    int64_t n = 1;
    for (int64_t d : model.store().get(name).shape) n *= d;
    elements += n;
  }
  const int64_t bytes = elements * static_cast<int64_t>(at::elementSize(model.runtime().dtype));
  return bytes <= kb * 1024 / 2;
}

void validateGenerateRequest(const Model& model, const std::vector<std::vector<int64_t>>& prompts,
                             const GenerateOptions& o) {
  auto bad = [](const std::string& m) { throw Error(ErrorKind::InvalidArgument, m); };
  if (prompts.empty()) bad("no prompts to generate from");
  if (o.maxNewTokens < 1) bad("the number of new tokens must be at least 1 (got " + std::to_string(o.maxNewTokens) + ")");
  if (!(o.temperature >= 0) || !std::isfinite(o.temperature)) bad("temperature must be 0 (greedy) or positive");
  if (!(o.topP > 0 && o.topP <= 1)) bad("top-p must lie in (0, 1]");
  if (o.batchSize < 1) bad("the batch size must be at least 1");
  if (o.scmoe.enabled) {
    if (!(o.scmoe.beta >= 0) || !std::isfinite(o.scmoe.beta)) bad("SCMoE beta must be 0 or positive");
    if (!(o.scmoe.alpha >= 0 && o.scmoe.alpha <= 1)) bad("SCMoE alpha must lie in [0, 1]");
    if (model.moeLayers().empty()) bad("SCMoE needs MoE layers, and this model has none");
    if (o.scmoe.weakRank < 0 || o.scmoe.weakRank > model.arch().numExperts())
      bad("SCMoE's weak rank must lie in [1, " + std::to_string(model.arch().numExperts()) + "] (the expert count)");
    if (o.scmoe.weakRank == 0 && (o.scmoe.weakTopK < 1 || o.scmoe.weakTopK > model.arch().topK()))
      bad("SCMoE's weak top-k must lie in [1, " + std::to_string(model.arch().topK()) +
          "] (num_experts_per_tok of config.json)");
  }
  const int64_t V = model.config().vocabSize;
  const int64_t context = model.config().getInt("max_position_embeddings", 0);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::string which = "prompt " + std::to_string(i + 1);
    if (prompts[i].empty()) bad(which + " is empty");
    for (int64_t id : prompts[i])
      if (id < 0 || id >= V) bad(which + ": token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                 std::to_string(V) + ")");
    const int64_t need = static_cast<int64_t>(prompts[i].size()) + o.maxNewTokens;
    if (context > 0 && need > context)
      bad(which + " has " + std::to_string(prompts[i].size()) + " tokens; with " + std::to_string(o.maxNewTokens) +
          " new tokens it needs " + std::to_string(need) + " positions, more than the model's context of " +
          std::to_string(context) + " (max_position_embeddings in config.json)");
  }
}

at::Tensor scmoeScores(const at::Tensor& strongLogits, const at::Tensor& weakLogits, const ScmoeOptions& o) {
  const at::Tensor ls = at::log_softmax(strongLogits.to(at::kFloat), -1);
  const at::Tensor lw = at::log_softmax(weakLogits.to(at::kFloat), -1);
  at::Tensor scores = ls + o.beta * (ls - lw);
  // Plausible tokens: p_strong >= alpha * max p_strong, i.e. log p >= log alpha + max log p.
  if (o.alpha > 0) {  // per row: the last dimension is the vocabulary
    const at::Tensor cut = std::get<0>(ls.max(-1, true)) + std::log(o.alpha);
    scores = scores.masked_fill(ls.lt(cut), -std::numeric_limits<float>::infinity());
  }
  return scores;
}

int64_t chooseToken(const at::Tensor& scoresIn, double temperature, double topP, double uniform) {
  const at::Tensor scores = scoresIn.to(at::kFloat).contiguous().cpu();
  if (temperature <= 0) return scores.argmax().item<int64_t>();
  const at::Tensor probs = at::softmax(scores / temperature, -1);
  const auto [sorted, order] = probs.sort(-1, /*descending=*/true);
  const float* p = sorted.data_ptr<float>();
  const int64_t* idx = order.data_ptr<int64_t>();
  const int64_t V = sorted.numel();
  // The nucleus: the fewest most-probable tokens whose mass reaches topP (at least one).
  int64_t n = 0;
  double mass = 0;
  while (n < V && (n == 0 || mass < topP)) mass += p[n++];
  double target = uniform * mass, acc = 0;
  for (int64_t i = 0; i < n; ++i) {
    acc += p[i];
    if (target < acc) return idx[i];
  }
  return idx[n - 1];
}

NextTokenAccuracy nextTokenAccuracy(Model& model, const at::Tensor& ids, const MoeOverride& variant,
                                    const ScmoeOptions& scmoe) {
  if (ids.dim() != 2 || ids.size(1) < 2)
    throw Error(ErrorKind::InvalidArgument, "next-token accuracy needs sequences of at least 2 tokens");
  auto hidden = [&](const ScmoeOptions* weak) {
    HiddenCatcher catcher(model.numLayers(), nullptr);
    ForwardOptions o = makeVariant(model, variant, weak).options;
    o.computeLogits = false;
    model.forward(ids, &catcher, o);
    return catcher.hidden;
  };
  const at::Tensor strong = hidden(nullptr), weak = hidden(&scmoe);
  const at::Tensor head = model.loadTensor(model.arch().lmHeadName());
  const int64_t T = ids.size(1);
  NextTokenAccuracy a;
  int64_t plain = 0, contrast = 0;
  for (int64_t b = 0; b < ids.size(0); ++b) {
    const at::Tensor target = ids[b].narrow(0, 1, T - 1).to(at::kCPU, at::kLong);
    const at::Tensor s = model.arch().logits(strong[b].narrow(0, 0, T - 1), head).to(at::kCPU, at::kFloat);
    const at::Tensor w = model.arch().logits(weak[b].narrow(0, 0, T - 1), head).to(at::kCPU, at::kFloat);
    plain += s.argmax(-1).eq(target).sum().item<int64_t>();
    contrast += scmoeScores(s, w, scmoe).argmax(-1).eq(target).sum().item<int64_t>();
  }
  a.predicted = ids.size(0) * (T - 1);
  a.plain = static_cast<double>(plain) / static_cast<double>(a.predicted);
  a.scmoe = static_cast<double>(contrast) / static_cast<double>(a.predicted);
  return a;
}

std::vector<Continuation> generate(Model& model, const std::vector<std::vector<int64_t>>& prompts,
                                   const GenerateOptions& o, const MoeOverride& moeOverride,
                                   const GenerateCallbacks& cb, GenerateStats* statsOut) {
  validateGenerateRequest(model, prompts, o);
  GenerateStats stats;
  stats.cached = o.useCache && model.arch().supportsKvCache();
  std::vector<Continuation> out(prompts.size());
  const at::Tensor head = model.loadTensor(model.arch().lmHeadName());
  Variant strong = makeVariant(model, moeOverride, nullptr);
  Variant weak;
  if (o.scmoe.enabled && !strong.blocks.empty()) {
    // Resident: the weak routing shares the strong blocks' weights (a MoeBlock copy shares tensors).
    weak.blocks = strong.blocks;
    for (MoeBlock& b : weak.blocks) weaken(b, o.scmoe);
  } else if (o.scmoe.enabled) {
    weak = makeVariant(model, moeOverride, &o.scmoe);
  }
  Variant* weakPtr = o.scmoe.enabled ? &weak : nullptr;
  TokenChooser chooser(o, prompts.size());

  if (!stats.cached) {
    generateUncached(model, prompts, o, strong, weakPtr, head, chooser, cb, out, stats);
  } else {
    // Batches of prompts of similar length waste the least padding.
    std::vector<size_t> order(prompts.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return prompts[a].size() < prompts[b].size(); });
    const int64_t totalSteps = static_cast<int64_t>(prompts.size()) * o.maxNewTokens;
    int64_t steps = 0;
    for (size_t first = 0; first < order.size(); first += static_cast<size_t>(o.batchSize)) {
      const size_t last = std::min(order.size(), first + static_cast<size_t>(o.batchSize));
      std::vector<size_t> batch(order.begin() + static_cast<std::ptrdiff_t>(first),
                                order.begin() + static_cast<std::ptrdiff_t>(last));
      generateCachedBatch(model, prompts, batch, o, strong, weakPtr, head, chooser, cb, out, stats, steps, totalSteps);
    }
  }
  if (statsOut) *statsOut = stats;
  return out;
}

}  // namespace moe
