#include "core/analysis/analyzer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/analysis/distributed.h"
#include "core/analysis/fingerprint.h"
#include "core/analysis/store.h"
#include "core/error.h"
#include "core/nn/gram.h"

namespace moe {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<double> toVector(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

Matrix toMatrix(const at::Tensor& t) {
  Matrix m(t.size(0), t.size(1));
  m.data = toVector(t);
  return m;
}

// Gram matrix of the experts' flattened weights, one weight kind at a time so no [E, params]
// copy of the whole block is ever made. In float64: the distances derived from the Gram
// (|wi|^2 + |wj|^2 - 2 wi.wj) cancel badly for near-duplicate experts, and float32 sums there
// differ between BLAS builds in the 4th digit. bf16 weights (a bf16 analysis) are summed in short
// float32 blocks where the CPU has AVX512-BF16 (GramSums::Float32Blocks: within 3.8e-6 of
// |wi| |wj|, in a quarter of the time: 0.53-0.63 s -> 0.14-0.15 s per Qwen1.5-MoE block).
at::Tensor weightGram(const MoeBlock& b, int64_t* paramsPerExpert) {
  at::Tensor gram = at::zeros({b.numSlots(), b.numSlots()}, at::TensorOptions().dtype(at::kDouble));
  int64_t params = 0;
  for (const at::Tensor* w : {&b.gate, &b.up, &b.down, &b.gateBias, &b.upBias, &b.downBias}) {
    if (!w->defined()) continue;
    const at::Tensor flat = w->flatten(1);
    addGram(flat, gram, flat.scalar_type() == at::kBFloat16 ? GramSums::Float32Blocks : GramSums::Float64);
    params += flat.size(1);
  }
  *paramsPerExpert = params;
  return gram;
}

// The slot Gram [S, S] seen from the router's experts [E, E]: in an expert-map checkpoint several
// experts share one stored slot, and every other statistic (and every consumer: distances,
// linkages, the store's [E-1, 4] linkage rows) is per expert. Experts sharing a slot get identical
// rows, hence weight distance 0.
Matrix expertGram(const at::Tensor& slotGram, const MoeBlock& b, int64_t E) {
  const Matrix g = toMatrix(slotGram);
  if (g.rows == E && b.expertSlot.empty()) return g;
  Matrix out(E, E);
  for (int64_t i = 0; i < E; ++i)
    for (int64_t j = 0; j < E; ++j) out(i, j) = g(b.slotOf(i), b.slotOf(j));
  return out;
}

// Token sums of one block: every statistic computeLayerStats reports as a mean or a frequency is
// kept here as a sum (with its count), so that the sums over disjoint sets of calibration sequences
// (the ranks of a distributed run) add up to the sums over all of them. All double, on the CPU.
struct BlockSums {
  int64_t tokens = 0;
  at::Tensor counts;     // [E] top-k selections (integers, exact in double up to 2^53)
  at::Tensor softSum;    // [E] routing probabilities summed over tokens
  at::Tensor logitGram;  // [E, E] router logits' Gram (a sum over tokens already)
  at::Tensor reapSum;    // [E] over routed tokens: gate weight x ||expert output||
  at::Tensor routedSum;  // [E, H] expert outputs over routed tokens
  at::Tensor hiddenSum;  // [E, I] expert hidden activations over all tokens (allTokens only)
};

// `routedOut`: see computeLayerStats. Left undefined for Llama-4, whose routing weights scale the
// experts' inputs, so that the outputs computed here are not the terms of its block's sum.
//
// The sums stay on the block's device until the block is done: on a GPU nothing in the expert loop
// waits for the device (no .item(), no copy to the host, no host-built index tensor per expert), so
// the host queues the experts' products back to back. The host learns the routing once per block
// (it needs each expert's routed-token count to size its products) and takes the sums back once.
BlockSums accumulateBlock(const MoeTrace& trace, const AnalysisOptions& options, double* flops, double* seconds,
                          const std::atomic<bool>* cancel, const std::function<void(int64_t, int64_t)>& afterExpert,
                          at::Tensor* routedOut = nullptr) {
  const MoeBlock& b = *trace.block;
  const at::Tensor& x = trace.input;
  const int64_t N = x.size(0), E = b.numExperts(), H = x.size(1), I = b.intermediateSize(), k = b.topK();
  const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble).device(x.device());
  BlockSums s;
  s.tokens = N;

  at::Tensor logits = trace.routerLogits.to(at::kFloat);
  s.counts = at::bincount(trace.routing.indices.reshape(-1), {}, E).to(at::kDouble);
  at::Tensor probs = b.routing.rule == RoutingRule::SoftmaxTopK ? at::softmax(logits, -1) : at::sigmoid(logits);
  s.softSum = probs.to(at::kDouble).sum(0);
  at::Tensor l64 = logits.to(at::kDouble);
  s.logitGram = at::matmul(l64.t(), l64);

  // Routed tokens of each expert (ascending) with their routing weights, laid out expert after
  // expert in one index tensor and one weight tensor that go to the device once:
  // expert e's routed tokens are rows first[e] .. first[e + 1] of both.
  at::Tensor idx = trace.routing.indices.to(at::kCPU).contiguous();
  at::Tensor w = trace.routing.weights.to(at::kCPU, at::kFloat).contiguous();
  std::vector<int64_t> first(static_cast<size_t>(E) + 1, 0);
  at::Tensor tokenHost = at::empty({N * k}, at::kLong), gateHost = at::empty({N * k}, at::kFloat);
  const int64_t* routedToken = tokenHost.data_ptr<int64_t>();  // on the host, for the loops below
  {
    const int64_t* ip = idx.data_ptr<int64_t>();
    const float* wp = w.data_ptr<float>();
    for (int64_t i = 0; i < N * k; ++i) ++first[static_cast<size_t>(ip[i]) + 1];
    for (int64_t e = 0; e < E; ++e) first[static_cast<size_t>(e) + 1] += first[static_cast<size_t>(e)];
    int64_t* tp = tokenHost.data_ptr<int64_t>();
    float* gp = gateHost.data_ptr<float>();
    std::vector<int64_t> fill(first.begin(), first.end() - 1);
    for (int64_t t = 0; t < N; ++t)
      for (int64_t j = 0; j < k; ++j) {
        const int64_t pos = fill[static_cast<size_t>(ip[t * k + j])]++;
        tp[pos] = t;
        gp[pos] = wp[t * k + j];
      }
  }
  const at::Tensor tokenRows = tokenHost.to(x.device()), gateRows = gateHost.to(x.device());
  auto routedCount = [&](int64_t e) { return first[static_cast<size_t>(e) + 1] - first[static_cast<size_t>(e)]; };

  const auto t0 = Clock::now();
  double work = 0;
  s.routedSum = at::zeros({E, H}, f64);
  s.reapSum = at::zeros({E}, f64);
  if (options.allTokens) s.hiddenSum = at::zeros({E, I}, f64);
  const bool combine = routedOut && !b.weightsScaleInput;
  at::Tensor routed = combine ? at::zeros_like(x) : at::Tensor();
  // Adds expert e's routed tokens [from, to) (counted within its own), whose hidden activations are
  // the rows of hiddenRows.
  auto addRouted = [&](int64_t e, const at::Tensor& hiddenRows, const at::Tensor& tokens, int64_t from, int64_t to) {
    if (from == to) return;
    at::Tensor y = b.slotDown(b.slotOf(e), hiddenRows).to(at::kFloat);
    at::Tensor gates = gateRows.narrow(0, first[static_cast<size_t>(e)] + from, to - from);
    s.routedSum[e].add_(y.sum(0).to(at::kDouble));
    s.reapSum[e].add_((gates * y.norm(2, {1})).sum().to(at::kDouble));
    // As MoeBlock::combine adds it: each token's terms in ascending expert order (experts are visited
    // in that order and a token lies in one token chunk), each rounded to the compute dtype first.
    if (combine) routed.index_add_(0, tokens, (y * gates.unsqueeze(1)).to(x.scalar_type()));
    work += 2.0 * static_cast<double>(to - from) * I * H;
  };
  // Expert e's routed tokens [from, to), as token indices on the device.
  auto tokensOf = [&](int64_t e, int64_t from, int64_t to) {
    return tokenRows.narrow(0, first[static_cast<size_t>(e)] + from, to - from);
  };
  // Narrow experts are evaluated in groups of consecutive slots (one wider product per chunk, see
  // MoeBlock::slotsHidden); every statistic is still kept per expert.
  const int64_t groupMax =
      options.allTokens && options.expertGroupWidth > 0 ? std::max<int64_t>(1, options.expertGroupWidth / I) : 1;
  for (int64_t e0 = 0; e0 < E;) {
    int64_t count = 1;
    while (count < groupMax && e0 + count < E && b.slotOf(e0 + count) == b.slotOf(e0) + count) ++count;
    if (cancel && cancel->load())
      throw Error(ErrorKind::Cancelled, "analysis cancelled in decoder layer " + std::to_string(trace.layer) +
                                            " before expert " + std::to_string(e0) + " of " + std::to_string(E));
    if (options.allTokens) {
      at::Tensor sumHidden = s.hiddenSum.narrow(0, e0, count);
      std::vector<int64_t> next(static_cast<size_t>(count), 0);
      for (int64_t start = 0; start < N; start += options.tokenChunk) {
        const int64_t n = std::min(options.tokenChunk, N - start);
        const at::Tensor hidden = b.slotsHidden(b.slotOf(e0), count, x.narrow(0, start, n));  // [n, count, I]
        sumHidden.add_(hidden.to(at::kDouble).sum(0));
        for (int64_t j = 0; j < count; ++j) {
          const int64_t e = e0 + j;
          const int64_t* toks = routedToken + first[static_cast<size_t>(e)];
          int64_t& from = next[static_cast<size_t>(j)];
          int64_t end = from;
          while (end < routedCount(e) && toks[end] < start + n) ++end;
          if (end > from) {
            const at::Tensor tokens = tokensOf(e, from, end);
            addRouted(e, hidden.select(1, j).index_select(0, tokens - start), tokens, from, end);
          }
          from = end;
        }
        work += 4.0 * static_cast<double>(n) * I * H * static_cast<double>(count);
      }
    } else {
      const int64_t count0 = routedCount(e0);
      if (count0 > 0) {
        const at::Tensor tokens = tokensOf(e0, 0, count0);
        addRouted(e0, b.slotHidden(b.slotOf(e0), x.index_select(0, tokens)), tokens, 0, count0);
        work += 4.0 * static_cast<double>(count0) * I * H;
      }
    }
    if (afterExpert)
      for (int64_t e = e0; e < e0 + count; ++e) afterExpert(e + 1, E);
    e0 += count;
  }
  // The block's one wait for the device: its sums come back (and the clock then covers the work
  // the host queued).
  for (at::Tensor* t : {&s.counts, &s.softSum, &s.logitGram, &s.reapSum, &s.routedSum, &s.hiddenSum})
    if (t->defined()) *t = t->to(at::kCPU);
  if (flops) *flops += work;
  if (seconds) *seconds += secondsSince(t0);
  if (combine) *routedOut = routed;
  return s;
}

// Means and frequencies from the (all-rank) sums. The weight Gram does not depend on tokens and
// is computed only where the statistics are kept (`weights`: every single-process run, rank 0).
LayerStats finishBlock(const MoeTrace& trace, const std::string& prefix, const AnalysisOptions& options,
                       const BlockSums& sums, bool weights) {
  const MoeBlock& b = *trace.block;
  const at::Tensor& x = trace.input;
  const int64_t E = b.numExperts(), N = sums.tokens, k = b.topK();
  LayerStats s;
  s.moeIndex = trace.moeIndex;
  s.layer = trace.layer;
  s.prefix = prefix;
  s.numExperts = E;
  s.topK = k;
  s.hidden = x.size(1);
  s.tokens = N;
  s.hasSharedExpert = b.shared.has_value();
  at::Tensor counts = sums.counts.round().to(at::kLong).contiguous();
  s.selectionCounts.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + E);
  s.usageFrequency = toVector(sums.counts / static_cast<double>(N * k));
  s.softUsage = toVector(sums.softSum / static_cast<double>(N));
  s.routerLogitGram = toMatrix(sums.logitGram);
  if (weights) s.weightGram = expertGram(weightGram(b, &s.weightParamsPerExpert), b, E);

  at::Tensor meanRouted = at::zeros({E, s.hidden}, at::kDouble);
  if (options.allTokens) {
    // The down projection is affine: the mean output is the projection of the mean hidden. Computed
    // on the block's device and taken back once.
    const at::Tensor meanHidden = (sums.hiddenSum / static_cast<double>(N)).to(x.device(), x.scalar_type());
    at::Tensor meanAll = at::empty({E, s.hidden}, at::TensorOptions().dtype(at::kDouble).device(x.device()));
    for (int64_t e = 0; e < E; ++e)
      meanAll[e].copy_(b.slotDown(b.slotOf(e), meanHidden.narrow(0, e, 1)).squeeze(0).to(at::kDouble));
    s.expertOutputMean = toMatrix(meanAll);
  }
  std::vector<double> reap(static_cast<size_t>(E), 0.0);
  for (int64_t e = 0; e < E; ++e) {
    const int64_t r = s.selectionCounts[static_cast<size_t>(e)];
    if (r > 0) {
      meanRouted[e] = sums.routedSum[e] / static_cast<double>(r);
      reap[static_cast<size_t>(e)] = sums.reapSum[e].item<double>() / static_cast<double>(r);
    }
  }
  s.expertOutputMeanRouted = toMatrix(meanRouted);
  s.reapScore = reap;
  return s;
}

// The sums of a block as one flat tensor (one all-reduce per block), with a last element that a
// rank sets when it was cancelled, so that every rank learns of it at the same block.
at::Tensor packSums(const BlockSums& s, bool cancelled) {
  std::vector<at::Tensor> parts{at::full({1}, static_cast<double>(s.tokens), at::kDouble), s.counts, s.softSum,
                                s.logitGram.flatten(), s.reapSum, s.routedSum.flatten()};
  if (s.hiddenSum.defined()) parts.push_back(s.hiddenSum.flatten());
  parts.push_back(at::full({1}, cancelled ? 1.0 : 0.0, at::kDouble));
  return at::cat(parts).contiguous();
}

// Zero sums of the right sizes (a cancelled rank still takes part in its block's all-reduce).
BlockSums zeroSums(const MoeBlock& b, int64_t H, bool allTokens) {
  const int64_t E = b.numExperts();
  const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);
  BlockSums s;
  s.counts = at::zeros({E}, f64);
  s.softSum = at::zeros({E}, f64);
  s.logitGram = at::zeros({E, E}, f64);
  s.reapSum = at::zeros({E}, f64);
  s.routedSum = at::zeros({E, H}, f64);
  if (allTokens) s.hiddenSum = at::zeros({E, b.intermediateSize()}, f64);
  return s;
}

// The inverse of packSums; returns whether some rank was cancelled.
bool unpackSums(const at::Tensor& flat, BlockSums& s) {
  int64_t pos = 1;
  auto take = [&](at::Tensor& t) {
    const int64_t n = t.numel();
    t = flat.narrow(0, pos, n).reshape(t.sizes()).clone();
    pos += n;
  };
  s.tokens = static_cast<int64_t>(std::llround(flat[0].item<double>()));
  take(s.counts);
  take(s.softSum);
  take(s.logitGram);
  take(s.reapSum);
  take(s.routedSum);
  if (s.hiddenSum.defined()) take(s.hiddenSum);
  return flat[pos].item<double>() > 0;
}

}  // namespace

LayerStats computeLayerStats(const MoeTrace& trace, const std::string& prefix, const AnalysisOptions& options,
                             double* flops, double* seconds, const std::atomic<bool>* cancel,
                             const std::function<void(int64_t, int64_t)>& afterExpert, at::Tensor* routedOut) {
  return finishBlock(trace, prefix, options,
                     accumulateBlock(trace, options, flops, seconds, cancel, afterExpert, routedOut), true);
}

namespace {

class AnalysisObserver : public ForwardObserver {
 public:
  AnalysisObserver(const Model& model, const AnalysisOptions& options, AnalysisStore* store,
                   const AnalysisProgressFn& progress, const std::atomic<bool>* cancel, AnalysisResult& result,
                   int64_t tokens)
      : model_(model), options_(options), store_(store), progress_(progress), cancel_(cancel), result_(result),
        tokens_(tokens), start_(Clock::now()) {}

  // A distributed run: this rank's sums are all-reduced before the statistics are formed, and the
  // blocks to skip come from rank 0 (only rank 0 has the store).
  void setDistributed(Communicator* comm, const std::vector<bool>* skip) {
    comm_ = comm;
    skip_ = skip;
  }

  // Between the block's routing and its output: the experts' routed outputs computed here become
  // the block's (MoeTrace::routedOutput), instead of the forward pass running them again.
  void onMoeRouting(MoeTrace& trace) override {
    if (skip_ ? (*skip_)[static_cast<size_t>(trace.moeIndex)] : store_ && store_->hasLayer(trace.moeIndex))
      return;  // finished in an earlier run (the forward pass still carries the hidden states on)
    std::function<void(int64_t, int64_t)> afterExpert;
    if (progress_ && options_.progressPerExpert)
      afterExpert = [&](int64_t done, int64_t total) { report(lastDoneLayer_, trace.layer, done, total); };
    const std::string prefix = model_.arch().moePrefix(trace.layer);
    LayerStats stats;
    if (!comm_) {
      BlockSums sums = accumulateBlock(trace, options_, &result_.expertFlops, &result_.expertSeconds, cancel_,
                                       afterExpert, &trace.routedOutput);
      const auto t0 = Clock::now();
      stats = finishBlock(trace, prefix, options_, sums, true);
      result_.statsSeconds += secondsSince(t0);
    } else {
      // A rank cancelled half-way still joins the block's all-reduce (with zeros), so that all
      // ranks stop at the same block instead of waiting for each other.
      bool cancelled = false;
      BlockSums sums;
      try {
        sums = accumulateBlock(trace, options_, &result_.expertFlops, &result_.expertSeconds, cancel_, afterExpert,
                               &trace.routedOutput);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Cancelled) throw;
        cancelled = true;
        sums = zeroSums(*trace.block, trace.input.size(1), options_.allTokens);
      }
      at::Tensor flat = packSums(sums, cancelled);
      comm_->allReduceSum(flat);
      if (unpackSums(flat, sums))
        throw Error(ErrorKind::Cancelled, "analysis cancelled in decoder layer " + std::to_string(trace.layer) +
                                              " (rank " + std::to_string(comm_->rank()) + ")");
      const auto t0 = Clock::now();
      stats = finishBlock(trace, prefix, options_, sums, comm_->rank() == 0);
      result_.statsSeconds += secondsSince(t0);
    }
    if (store_) store_->writeLayer(stats);
    result_.layers.push_back(std::move(stats));
  }

  void onLayerDone(int layer, int numLayers) override {
    ++layersDone_;
    lastDoneLayer_ = layer;
    numLayers_ = numLayers;
    if (progress_) report(layer, -1, 0, 0);
  }

  // Between layers only in a single process: a distributed run learns of a cancel at its blocks'
  // all-reduce, where every rank sees it at once.
  bool cancelled() const override { return !comm_ && cancel_ && cancel_->load(); }
  void setLastLayer(int l) { lastLayer_ = l; }

 private:
  // `layer`: the last finished decoder layer; `computing` >= 0 with experts done of total inside
  // that layer's block for a per-expert event.
  void report(int layer, int computing, int64_t expertsDone, int64_t expertsTotal) {
    AnalysisProgress p;
    p.layer = layer;
    p.numLayers = numLayers_ > 0 ? numLayers_ : model_.numLayers();
    p.moeTotal = static_cast<int>(model_.moeLayers().size());
    p.moeDone = 0;
    for (int l : model_.moeLayers()) p.moeDone += l <= layer ? 1 : 0;
    p.tokens = tokens_;
    p.computingLayer = computing;
    p.expertsDone = expertsDone;
    p.expertsTotal = expertsTotal;
    p.elapsedSeconds = secondsSince(start_);
    // Layers done in this run, counting the current block's finished share of experts.
    const double done = layersDone_ + (expertsTotal > 0 ? static_cast<double>(expertsDone) / expertsTotal : 0.0);
    p.tokensPerSecond = p.elapsedSeconds > 0 ? static_cast<double>(tokens_) * done / p.elapsedSeconds : 0;
    const double remaining = (lastLayer_ - layer) - (done - layersDone_);
    p.etaSeconds = done > 0 ? p.elapsedSeconds / done * std::max(0.0, remaining) : 0;
    progress_(p);
  }

  const Model& model_;
  const AnalysisOptions& options_;
  AnalysisStore* store_;
  const AnalysisProgressFn& progress_;
  const std::atomic<bool>* cancel_;
  AnalysisResult& result_;
  int64_t tokens_;
  Clock::time_point start_;
  int layersDone_ = 0;
  int lastLayer_ = 0;
  int lastDoneLayer_ = -1;
  int numLayers_ = 0;
  Communicator* comm_ = nullptr;
  const std::vector<bool>* skip_ = nullptr;
};

}  // namespace

nlohmann::json analysisSettings(const std::string& calibration, const TokenSourceOptions& source,
                                const AnalysisOptions& options, const std::string& dtype) {
  return {{"calibration", calibration},
          {"sequences", source.sequences},
          {"length", source.length},
          {"random_windows", source.randomWindows},
          {"seed", source.seed},
          {"field", source.read.textField},
          {"tokenizer", source.tokenizerPath},
          {"statistic", options.allTokens ? "all" : "routed"},
          {"dtype", dtype}};
}

AnalysisInfo describeAnalysis(const Model& model, const at::Tensor& idsIn, const nlohmann::json& settings) {
  if (idsIn.dim() != 2)
    throw Error(ErrorKind::InvalidArgument, "calibration token ids must be [sequences, length], got " +
                                                std::to_string(idsIn.dim()) + " dimensions");
  at::Tensor ids = idsIn.to(at::kCPU, at::kLong).contiguous();
  std::vector<int64_t> flat(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  AnalysisInfo info;
  info.modelDir = std::filesystem::absolute(model.folder()).string();
  info.modelType = model.config().modelType;
  info.modelManifest = modelManifest(model.folder(), model.store());
  info.modelFingerprint = manifestFingerprint(info.modelManifest);
  info.tokenShape = {ids.size(0), ids.size(1)};
  info.calibrationFingerprint = tokensFingerprint(flat, info.tokenShape);
  info.settings = settings.is_object() ? settings : nlohmann::json::object();
  // The shape actually analysed (an HDF5 source keeps its own), not the one asked for.
  info.settings["sequences"] = ids.size(0);
  info.settings["length"] = ids.size(1);
  info.numLayers = model.numLayers();
  info.moeLayers = model.moeLayers();
  for (int l = 0; l < model.numLayers(); ++l)
    if (!model.arch().isMoeLayer(l)) info.denseLayers.push_back(l);
  info.numExperts = model.config().numExperts;
  info.topK = model.config().topK;
  info.hidden = model.config().hiddenSize;
  info.tokenIds = std::move(flat);
  return info;
}

namespace {

// Streams `ids` through the decoder layers for `observer`; nothing after the last MoE block matters
// to the statistics, so the pass stops there.
void streamToLastMoeBlock(Model& model, const at::Tensor& ids, AnalysisObserver& observer, ForwardTimes* times) {
  const int last = model.moeLayers().back();
  observer.setLastLayer(last);
  ForwardOptions fo;
  fo.computeLogits = false;
  fo.stopAfterLayer = last + 1;
  fo.times = times;
  model.forward(ids, &observer, fo);
}

}  // namespace

AnalysisResult runAnalysis(Model& model, const at::Tensor& ids, const AnalysisOptions& options, AnalysisStore* store,
                           const AnalysisProgressFn& progress, const std::atomic<bool>* cancel) {
  if (options.tokenChunk <= 0) throw Error(ErrorKind::InvalidArgument, "token chunk must be positive");
  AnalysisResult result;
  if (model.moeLayers().empty()) throw Error(ErrorKind::InvalidArgument, model.folder() + " has no MoE layers");
  if (store) result.resumedLayers = static_cast<int>(store->completedLayers().size());
  const auto start = Clock::now();
  AnalysisObserver observer(model, options, store, progress, cancel, result, ids.numel());
  streamToLastMoeBlock(model, ids, observer, &result.forward);
  result.seconds = secondsSince(start);
  return result;
}

AnalysisResult runAnalysisDistributed(Model& model, const at::Tensor& share, int64_t totalTokens,
                                      const AnalysisOptions& options, Communicator& comm,
                                      const std::vector<bool>& skip, AnalysisStore* store,
                                      const AnalysisProgressFn& progress, const std::atomic<bool>* cancel) {
  if (options.tokenChunk <= 0) throw Error(ErrorKind::InvalidArgument, "token chunk must be positive");
  if (model.moeLayers().empty()) throw Error(ErrorKind::InvalidArgument, model.folder() + " has no MoE layers");
  if (skip.size() != model.moeLayers().size())
    throw Error(ErrorKind::InvalidArgument, "distributed analysis: the skip list has " + std::to_string(skip.size()) +
                                                " entries for " + std::to_string(model.moeLayers().size()) +
                                                " MoE blocks");
  AnalysisResult result;
  result.resumedLayers = static_cast<int>(std::count(skip.begin(), skip.end(), true));
  const auto start = Clock::now();
  AnalysisObserver observer(model, options, store, progress, cancel, result, totalTokens);
  observer.setDistributed(&comm, &skip);
  streamToLastMoeBlock(model, share, observer, &result.forward);
  result.seconds = secondsSince(start);
  return result;
}

}  // namespace moe
