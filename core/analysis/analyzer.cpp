#include "core/analysis/analyzer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/analysis/fingerprint.h"
#include "core/analysis/store.h"
#include "core/error.h"

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
// copy of the whole block is ever made.
at::Tensor weightGram(const MoeBlock& b, int64_t* paramsPerExpert) {
  at::Tensor gram = at::zeros({b.numSlots(), b.numSlots()}, at::TensorOptions().dtype(at::kDouble));
  int64_t params = 0;
  for (const at::Tensor* w : {&b.gate, &b.up, &b.down, &b.gateBias, &b.upBias, &b.downBias}) {
    if (!w->defined()) continue;
    // In float64: the distances derived from the Gram (|wi|^2 + |wj|^2 - 2 wi.wj) cancel badly for
    // near-duplicate experts, and float32 sums there differ between BLAS builds in the 4th digit.
    // Column chunks bound the float64 copy to 16 M values (128 MB) whatever the expert count.
    const at::Tensor flat = w->flatten(1);
    const int64_t chunk = std::max<int64_t>(1, (int64_t{16} << 20) / std::max<int64_t>(1, flat.size(0)));
    for (int64_t c = 0; c < flat.size(1); c += chunk) {
      const at::Tensor part = flat.narrow(1, c, std::min(chunk, flat.size(1) - c)).to(at::kDouble);
      gram += at::matmul(part, part.t()).to(at::kCPU);
    }
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

}  // namespace

LayerStats computeLayerStats(const MoeTrace& trace, const std::string& prefix, const AnalysisOptions& options,
                             double* flops, double* seconds, const std::atomic<bool>* cancel,
                             const std::function<void(int64_t, int64_t)>& afterExpert) {
  const MoeBlock& b = *trace.block;
  const at::Tensor& x = trace.input;
  const int64_t N = x.size(0), E = b.numExperts(), H = x.size(1), I = b.intermediateSize(), k = b.topK();
  LayerStats s;
  s.moeIndex = trace.moeIndex;
  s.layer = trace.layer;
  s.prefix = prefix;
  s.numExperts = E;
  s.topK = k;
  s.hidden = H;
  s.tokens = N;
  s.hasSharedExpert = b.shared.has_value();

  at::Tensor logits = trace.routerLogits.to(at::kFloat);
  at::Tensor idx = trace.routing.indices.to(at::kCPU);
  at::Tensor counts = at::bincount(idx.reshape(-1), {}, E);
  s.selectionCounts.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + E);
  s.usageFrequency = toVector(counts.to(at::kDouble) / static_cast<double>(N * k));
  at::Tensor probs = b.routing.rule == RoutingRule::SoftmaxTopK ? at::softmax(logits, -1) : at::sigmoid(logits);
  s.softUsage = toVector(probs.mean(0));
  at::Tensor l64 = logits.to(at::kDouble);
  s.routerLogitGram = toMatrix(at::matmul(l64.t(), l64));
  s.weightGram = expertGram(weightGram(b, &s.weightParamsPerExpert), b, E);

  // Routed tokens of each expert (ascending) with their routing weights.
  at::Tensor w = trace.routing.weights.to(at::kCPU, at::kFloat).contiguous();
  std::vector<std::vector<int64_t>> routedTokens(static_cast<size_t>(E));
  std::vector<std::vector<float>> routedWeights(static_cast<size_t>(E));
  {
    const int64_t* ip = idx.contiguous().data_ptr<int64_t>();
    const float* wp = w.data_ptr<float>();
    for (int64_t t = 0; t < N; ++t)
      for (int64_t j = 0; j < k; ++j) {
        routedTokens[static_cast<size_t>(ip[t * k + j])].push_back(t);
        routedWeights[static_cast<size_t>(ip[t * k + j])].push_back(wp[t * k + j]);
      }
  }

  const auto t0 = Clock::now();
  double work = 0;
  at::Tensor meanAll = at::zeros({E, H}, at::kDouble), meanRouted = at::zeros({E, H}, at::kDouble);
  std::vector<double> reap(static_cast<size_t>(E), 0.0);
  const at::TensorOptions longOpts = at::TensorOptions().dtype(at::kLong);
  for (int64_t e = 0; e < E; ++e) {
    if (cancel && cancel->load())
      throw Error(ErrorKind::Cancelled, "analysis cancelled in decoder layer " + std::to_string(trace.layer) +
                                            " before expert " + std::to_string(e) + " of " + std::to_string(E));
    const auto& toks = routedTokens[static_cast<size_t>(e)];
    const auto& wts = routedWeights[static_cast<size_t>(e)];
    const int64_t r = static_cast<int64_t>(toks.size());
    at::Tensor routedSum = at::zeros({H}, at::kDouble);
    double reapSum = 0;
    // Adds the routed tokens toks[from, to), whose hidden activations are the rows of hiddenRows.
    auto addRouted = [&](const at::Tensor& hiddenRows, size_t from, size_t to) {
      if (from == to) return;
      at::Tensor y = b.slotDown(b.slotOf(e), hiddenRows).to(at::kFloat);
      at::Tensor gates = at::from_blob(const_cast<float*>(wts.data()) + from, {static_cast<int64_t>(to - from)},
                                       at::kFloat).to(x.device());
      routedSum += y.sum(0).to(at::kCPU, at::kDouble);
      reapSum += (gates * y.norm(2, {1})).sum().item<double>();
      work += 2.0 * static_cast<double>(to - from) * I * H;
    };
    // toks[from, to) as row indices into a tensor whose first row is token `rowOffset`.
    auto rowsOf = [&](size_t from, size_t to, int64_t rowOffset) {
      std::vector<int64_t> rows(toks.begin() + static_cast<long>(from), toks.begin() + static_cast<long>(to));
      for (auto& row : rows) row -= rowOffset;
      return at::tensor(rows, longOpts).to(x.device());
    };
    if (options.allTokens) {
      at::Tensor sumHidden = at::zeros({I}, at::TensorOptions().dtype(at::kDouble).device(x.device()));
      size_t next = 0;
      for (int64_t start = 0; start < N; start += options.tokenChunk) {
        const int64_t n = std::min(options.tokenChunk, N - start);
        at::Tensor hidden = b.slotHidden(b.slotOf(e), x.narrow(0, start, n));
        sumHidden += hidden.to(at::kDouble).sum(0);
        size_t end = next;
        while (end < toks.size() && toks[end] < start + n) ++end;
        if (end > next) addRouted(hidden.index_select(0, rowsOf(next, end, start)), next, end);
        next = end;
        work += 4.0 * static_cast<double>(n) * I * H;
      }
      // The down projection is affine: the mean output is the projection of the mean hidden.
      at::Tensor meanHidden = (sumHidden / static_cast<double>(N)).to(x.scalar_type()).unsqueeze(0);
      meanAll[e] = b.slotDown(b.slotOf(e), meanHidden).squeeze(0).to(at::kCPU, at::kDouble);
    } else if (r > 0) {
      addRouted(b.slotHidden(b.slotOf(e), x.index_select(0, rowsOf(0, toks.size(), 0))), 0, toks.size());
      work += 4.0 * static_cast<double>(r) * I * H;
    }
    if (r > 0) {
      meanRouted[e] = routedSum / static_cast<double>(r);
      reap[static_cast<size_t>(e)] = reapSum / static_cast<double>(r);
    }
    if (afterExpert) afterExpert(e + 1, E);
  }
  if (options.allTokens) s.expertOutputMean = toMatrix(meanAll);
  s.expertOutputMeanRouted = toMatrix(meanRouted);
  s.reapScore = reap;
  if (flops) *flops += work;
  if (seconds) *seconds += secondsSince(t0);
  return s;
}

namespace {

class AnalysisObserver : public ForwardObserver {
 public:
  AnalysisObserver(const Model& model, const AnalysisOptions& options, AnalysisStore* store,
                   const AnalysisProgressFn& progress, const std::atomic<bool>* cancel, AnalysisResult& result,
                   int64_t tokens)
      : model_(model), options_(options), store_(store), progress_(progress), cancel_(cancel), result_(result),
        tokens_(tokens), start_(Clock::now()) {}

  void onMoeBlock(const MoeTrace& trace) override {
    if (store_ && store_->hasLayer(trace.moeIndex)) return;  // finished in an earlier run
    std::function<void(int64_t, int64_t)> afterExpert;
    if (progress_ && options_.progressPerExpert)
      afterExpert = [&](int64_t done, int64_t total) { report(lastDoneLayer_, trace.layer, done, total); };
    LayerStats stats = computeLayerStats(trace, model_.arch().moePrefix(trace.layer), options_, &result_.expertFlops,
                                         &result_.expertSeconds, cancel_, afterExpert);
    if (store_) store_->writeLayer(stats);
    result_.layers.push_back(std::move(stats));
  }

  void onLayerDone(int layer, int numLayers) override {
    ++layersDone_;
    lastDoneLayer_ = layer;
    numLayers_ = numLayers;
    if (progress_) report(layer, -1, 0, 0);
  }

  bool cancelled() const override { return cancel_ && cancel_->load(); }
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

AnalysisResult runAnalysis(Model& model, const at::Tensor& ids, const AnalysisOptions& options, AnalysisStore* store,
                           const AnalysisProgressFn& progress, const std::atomic<bool>* cancel) {
  if (options.tokenChunk <= 0) throw Error(ErrorKind::InvalidArgument, "token chunk must be positive");
  AnalysisResult result;
  if (model.moeLayers().empty()) throw Error(ErrorKind::InvalidArgument, model.folder() + " has no MoE layers");
  if (store) result.resumedLayers = static_cast<int>(store->completedLayers().size());
  const auto start = Clock::now();
  AnalysisObserver observer(model, options, store, progress, cancel, result, ids.numel());
  // Nothing after the last MoE block matters to the statistics.
  const int last = model.moeLayers().back();
  observer.setLastLayer(last);
  ForwardOptions fo;
  fo.computeLogits = false;
  fo.stopAfterLayer = last + 1;
  model.forward(ids, &observer, fo);
  result.seconds = secondsSince(start);
  return result;
}

}  // namespace moe
