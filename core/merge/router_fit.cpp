#include "core/merge/router_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/engine/model.h"
#include "core/error.h"

namespace moe {
namespace {

Error invalid(const std::string& msg) { return Error(ErrorKind::InvalidArgument, msg); }

// Evenly strided rows of x (all of them when there are at most n).
at::Tensor subsampleRows(const at::Tensor& x, int64_t n) {
  const int64_t N = x.size(0);
  if (n <= 0 || N <= n) return x;
  at::Tensor idx = at::floor(at::arange(n, at::kDouble) * (static_cast<double>(N) / static_cast<double>(n))).to(at::kLong);
  return x.index_select(0, idx.to(x.device()));
}

// Features of the fit: the block input, plus a constant column when the router has a bias.
struct Design {
  at::Tensor A;        // [N, D'] float64
  at::Tensor penalty;  // [D'] 1 for weights, 0 for the intercept
  double lambda = 0;   // absolute ridge weight
  bool intercept = false;
  at::Tensor gram;     // A^T A / N
};

Design makeDesign(const at::Tensor& x, bool intercept, double ridge) {
  Design d;
  d.intercept = intercept;
  at::Tensor X = x.to(at::kCPU).to(at::kDouble);
  const int64_t N = X.size(0);
  d.A = intercept ? at::cat({X, at::ones({N, 1}, X.options())}, 1) : X;
  d.penalty = at::ones({d.A.size(1)}, X.options());
  if (intercept) d.penalty[-1] = 0.0;
  d.gram = d.A.t().mm(d.A) / static_cast<double>(N);
  const double scale = X.pow(2).mean().item<double>();  // mean diagonal of X^T X / N over the H features
  d.lambda = ridge * (scale > 0 ? scale : 1.0);
  return d;
}

// Solves (gram * c + lambda * diag(penalty)) Z = R for Z.
at::Tensor precondSolve(const Design& d, const at::Tensor& R, double c) {
  at::Tensor P = d.gram * c + at::diag(d.penalty * d.lambda);
  // The intercept column alone has no ridge; a tiny jitter keeps P positive definite in any case.
  P = P + at::eye(P.size(0), P.options()) * (1e-12 * (P.diag().abs().max().item<double>() + 1.0));
  at::Tensor L = at::linalg_cholesky(P);
  return at::cholesky_solve(R, L);
}

// Cross-entropy of softmax(A W) against the rows of T, plus the ridge term. W [D', K].
double crossEntropy(const Design& d, const at::Tensor& W, const at::Tensor& T) {
  at::Tensor logp = at::log_softmax(d.A.mm(W), 1);
  const double ce = -(T * logp).sum(1).mean().item<double>();
  return ce + 0.5 * d.lambda * (W.pow(2) * d.penalty.unsqueeze(1)).sum().item<double>();
}

// Soft-label logistic regression by the bound-optimisation (Böhning) iteration: the Hessian of the
// cross-entropy is bounded by 1/2 A^T A / N, so a step preconditioned with that bound never
// increases the loss; a doubled step is tried first and kept when it does better.
void throwIfCancelled(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load()) throw Error(ErrorKind::Cancelled, "router fit cancelled");
}

at::Tensor fitSoftLabels(const Design& d, const at::Tensor& T, at::Tensor W, int iterations,
                         const std::atomic<bool>* cancel) {
  const int64_t N = d.A.size(0);
  double loss = crossEntropy(d, W, T);
  for (int it = 0; it < iterations; ++it) {
    throwIfCancelled(cancel);
    at::Tensor S = at::softmax(d.A.mm(W), 1);
    at::Tensor G = d.A.t().mm(S - T) / static_cast<double>(N) + W * d.penalty.unsqueeze(1) * d.lambda;
    at::Tensor step = precondSolve(d, G, 0.5);
    at::Tensor best;
    double bestLoss = loss;
    for (double eta : {2.0, 1.0}) {
      at::Tensor cand = W - step * eta;
      const double l = crossEntropy(d, cand, T);
      if (l < bestLoss) {
        bestLoss = l;
        best = cand;
        break;
      }
    }
    if (!best.defined()) break;
    const double gain = loss - bestLoss;
    W = best;
    loss = bestLoss;
    if (gain < 1e-10 * std::max(1.0, std::abs(loss))) break;
  }
  return W;
}

// Routing weights [N, K] (dense) of a softmax top-k router with logits C, and the selection mask.
struct DenseRouting {
  at::Tensor weights;  // [N, K]
  at::Tensor mask;     // [N, K] 1 where selected
  at::Tensor probs;    // [N, K] softmax over all K
};

DenseRouting denseRoute(const at::Tensor& C, const RoutingConfig& rc) {
  DenseRouting r;
  r.probs = at::softmax(C, 1);
  const int64_t k = std::min<int64_t>(rc.topK, C.size(1));
  at::Tensor idx = std::get<1>(r.probs.topk(k, 1));
  r.mask = at::zeros_like(C).scatter_(1, idx, 1.0);
  at::Tensor w = r.probs * r.mask;
  if (rc.normalize) w = w / w.sum(1, true);
  r.weights = w;
  return r;
}

// Output matching: minimise mean_n ||sum_g w_g(n) Y[n, g] - O[n]||^2 / mean ||O||^2 over W, where w
// is the compact routing (top-k of softmax(A W), renormalised or not as the architecture does).
// Preconditioned gradient descent with backtracking; the best W seen is returned.
at::Tensor fitOutput(const Design& d, const at::Tensor& Y, const at::Tensor& O, const RoutingConfig& rc, at::Tensor W,
                     int iterations, const std::atomic<bool>* cancel) {
  const int64_t N = d.A.size(0);
  const double norm = std::max(O.pow(2).sum(1).mean().item<double>(), 1e-30);
  auto lossOf = [&](const at::Tensor& Wc, DenseRouting* out) {
    DenseRouting r = denseRoute(d.A.mm(Wc), rc);
    at::Tensor res = at::bmm(r.weights.unsqueeze(1), Y).squeeze(1) - O;  // [N, H]
    const double l = res.pow(2).sum(1).mean().item<double>() / norm +
                     0.5 * d.lambda * (Wc.pow(2) * d.penalty.unsqueeze(1)).sum().item<double>();
    if (out) *out = r;
    return std::make_pair(l, res);
  };
  DenseRouting r;
  auto [loss, res] = lossOf(W, &r);
  double eta = 1.0;
  for (int it = 0; it < iterations; ++it) {
    throwIfCancelled(cancel);
    // dL/dw_g = 2 res . Y_g / norm
    at::Tensor a = at::bmm(Y, res.unsqueeze(2)).squeeze(2) * (2.0 / norm);  // [N, K]
    at::Tensor dC;
    if (rc.normalize) {
      at::Tensor w = r.weights;
      dC = w * (a - (w * a).sum(1, true));
    } else {
      at::Tensor p = r.probs;
      dC = p * (a * r.mask - (p * r.mask * a).sum(1, true));
    }
    at::Tensor G = d.A.t().mm(dC) / static_cast<double>(N) + W * d.penalty.unsqueeze(1) * d.lambda;
    at::Tensor step = precondSolve(d, G, 1.0);
    bool improved = false;
    for (int tries = 0; tries < 10; ++tries, eta *= 0.5) {
      at::Tensor cand = W - step * eta;
      DenseRouting rc2;
      auto [l, rs] = lossOf(cand, &rc2);
      if (l < loss) {
        improved = true;
        W = cand;
        loss = l;
        res = rs;
        r = rc2;
        break;
      }
    }
    if (!improved) break;
    eta = std::min(eta * 2.0, 64.0);
  }
  return W;
}

// The members of each group, as index tensors.
std::vector<at::Tensor> memberIndex(const std::vector<int64_t>& labels, int64_t K) {
  std::vector<std::vector<int64_t>> m(static_cast<size_t>(K));
  for (size_t e = 0; e < labels.size(); ++e) m[static_cast<size_t>(labels[e])].push_back(static_cast<int64_t>(e));
  std::vector<at::Tensor> out;
  for (auto& v : m) out.push_back(at::tensor(v, at::kLong));
  return out;
}

// Per-group reduction of member columns of L [N, E] -> [N, K].
template <typename F>
at::Tensor perGroup(const at::Tensor& L, const std::vector<at::Tensor>& members, F f) {
  std::vector<at::Tensor> cols;
  for (const auto& idx : members) cols.push_back(f(L.index_select(1, idx.to(L.device()))));
  return at::stack(cols, 1);
}

}  // namespace

at::Tensor ridgeRegression(const at::Tensor& X, const at::Tensor& Y, double lambda, bool intercept) {
  if (X.dim() != 2 || Y.dim() != 2 || X.size(0) != Y.size(0) || X.size(0) == 0)
    throw invalid("ridge regression: X [N, D] and Y [N, K] with the same N > 0 are needed");
  Design d;
  at::Tensor Xd = X.to(at::kCPU).to(at::kDouble);
  const int64_t N = Xd.size(0);
  d.A = intercept ? at::cat({Xd, at::ones({N, 1}, Xd.options())}, 1) : Xd;
  d.penalty = at::ones({d.A.size(1)}, Xd.options());
  if (intercept) d.penalty[-1] = 0.0;
  d.gram = d.A.t().mm(d.A) / static_cast<double>(N);
  d.lambda = lambda;
  at::Tensor B = precondSolve(d, d.A.t().mm(Y.to(at::kCPU).to(at::kDouble)) / static_cast<double>(N), 1.0);
  return B.t().contiguous();
}

FittedRouter fitCompactRouter(RouterMode mode, const MoeBlock& original, const MoeBlock& compact,
                              const std::vector<int64_t>& labels, const at::Tensor& xIn,
                              const RouterFitOptions& options) {
  if (!isFittedRouter(mode)) throw invalid(std::string("router '") + routerModeName(mode) + "' is not a fitted router");
  const int64_t E = original.numExperts(), K = compact.numExperts();
  if (static_cast<int64_t>(labels.size()) != E) throw invalid("router fit: one group label per expert is needed");
  if (xIn.dim() != 2 || xIn.size(1) != original.hiddenSize() || xIn.size(0) == 0)
    throw invalid("router fit: calibration inputs must be [N, hidden] with N > 0");
  const at::Tensor x = subsampleRows(xIn, options.maxTokens);
  const bool intercept = original.routerBias.defined();
  const Design d = makeDesign(x, intercept, options.ridge);
  const auto members = memberIndex(labels, K);

  at::Tensor L = original.routerLogits(x).to(at::kCPU).to(at::kDouble);  // [N, E]
  // lse-fit: closed form, also the start of the iterative fits.
  at::Tensor lse = perGroup(L, members, [](const at::Tensor& c) { return at::logsumexp(c, 1); });
  at::Tensor W = precondSolve(d, d.A.t().mm(lse) / static_cast<double>(d.A.size(0)), 1.0);  // [D', K]

  const bool softmaxRule = original.routing.rule == RoutingRule::SoftmaxTopK;
  if (softmaxRule && mode == RouterMode::SoftFit) {
    at::Tensor P = at::softmax(L, 1);
    at::Tensor T = perGroup(P, members, [](const at::Tensor& c) { return c.sum(1); });
    W = fitSoftLabels(d, T, W, options.iterations, options.cancel);
  } else if (softmaxRule && mode == RouterMode::TiedFit) {
    Routing r = original.route(L.to(at::kFloat));
    at::Tensor lab = at::tensor(labels, at::kLong);
    at::Tensor groupIdx = lab.index_select(0, r.indices.reshape(-1).to(at::kCPU)).view(r.indices.sizes());
    at::Tensor Tw = at::zeros({x.size(0), K}, at::kDouble).scatter_add_(1, groupIdx, r.weights.to(at::kCPU).to(at::kDouble));
    at::Tensor T = Tw / Tw.sum(1, true).clamp_min(1e-30);
    W = fitSoftLabels(d, T, W, options.iterations, options.cancel);
    if (options.refineOutput && options.refineIterations > 0) {
      // Per-group merged expert outputs on (a subsample of) the tokens, bounded to ~1 GiB.
      const int64_t cap = std::max<int64_t>(256, (int64_t(1) << 27) / std::max<int64_t>(1, K * x.size(1)));
      const int64_t n = std::min<int64_t>(x.size(0), cap);
      at::Tensor xs = subsampleRows(x, n);
      Design ds = n == x.size(0) ? d : makeDesign(xs, intercept, options.ridge);
      at::Tensor Tws = n == x.size(0) ? Tw : subsampleRows(Tw, n);
      std::vector<at::Tensor> ys;
      for (int64_t g = 0; g < K; ++g) ys.push_back(compact.applySlot(g, xs).to(at::kCPU).to(at::kDouble));
      at::Tensor Y = at::stack(ys, 1);                              // [n, K, H]
      at::Tensor O = at::bmm(Tws.unsqueeze(1), Y).squeeze(1);       // the tied block's routed output
      W = fitOutput(ds, Y, O, compact.routing, W, options.refineIterations, options.cancel);
    }
  }

  FittedRouter f;
  const int64_t H = original.hiddenSize();
  at::Tensor Wt = W.t().contiguous();  // [K, D']
  f.weight = Wt.narrow(1, 0, H).contiguous();
  if (intercept) f.bias = Wt.select(1, H).contiguous();
  if (compact.correctionBias.defined()) f.correctionBias = compact.correctionBias;
  return f;
}

void applyFittedRouter(const FittedRouter& router, MoeBlock& compact) {
  if (!router.weight.defined() || router.weight.size(0) != compact.numSlots() ||
      router.weight.size(1) != compact.hiddenSize())
    throw invalid("fitted router: its rows do not match the compact block");
  const auto opt = compact.routerWeight.options();
  compact.routerWeight = router.weight.to(opt);
  if (router.bias.defined()) {
    const auto bopt = compact.routerBias.defined() ? compact.routerBias.options() : opt;
    compact.routerBias = router.bias.to(bopt);
  }
  if (router.correctionBias.defined()) compact.correctionBias = router.correctionBias.to(compact.correctionBias.defined() ? compact.correctionBias.options() : opt);
}

namespace {

// The layer plan the compact merge runs with while fitting: a fitted router starts from the average rows.
LayerPlan startingPlan(const LayerPlan& lp) {
  LayerPlan p = lp;
  if (isFittedRouter(p.router)) p.router = RouterMode::Average;
  return p;
}

bool mergeEntry(const LayerPlan* lp) { return lp && !lp->isIdentity() && !isPruneStrategy(lp->strategy); }

class FitObserver : public ForwardObserver {
 public:
  FitObserver(std::function<RouterMode(const LayerPlan&)> mode, const MergePlan& plan, const RouterFitOptions& opt, bool sequential,
              const RouterFitProgressFn& progress, const std::atomic<bool>* cancel, int total)
      : mode_(mode), plan_(plan), opt_(opt), sequential_(sequential), progress_(progress), cancel_(cancel),
        total_(total) {}

  // Before block j runs: remember the original; in the sequential fit the block becomes the compact
  // merge (its output is then recomputed with the fitted router in onMoeBlock).
  void before(int j, MoeBlock& block) {
    const LayerPlan* lp = plan_.find(j);
    if (!lp) return;
    original_ = block;
    if (!sequential_) return;
    block = applyLayerPlan(block, startingPlan(*lp), MergeSemantics::Compact);
  }

  void onMoeBlock(const MoeTrace& t) override {
    const LayerPlan* lp = plan_.find(t.moeIndex);
    if (!mergeEntry(lp) || !isFittedRouter(mode_(*lp))) return;
    MoeBlock compact = applyLayerPlan(original_, startingPlan(*lp), MergeSemantics::Compact);
    FittedRouter f = fitCompactRouter(mode_(*lp), original_, compact, lp->labels, t.input, opt_);
    if (sequential_) {
      // What the compact model with this router computes: the next layers see it.
      applyFittedRouter(f, compact);
      t.output.copy_(compact.forward(t.input));
    }
    routers[t.moeIndex] = std::move(f);
    original_ = MoeBlock();
    ++done_;
    if (progress_) progress_(done_, total_);
  }

  bool cancelled() const override { return cancel_ && cancel_->load(); }

  std::map<int, FittedRouter> routers;

 private:
  std::function<RouterMode(const LayerPlan&)> mode_;
  const MergePlan& plan_;
  RouterFitOptions opt_;
  bool sequential_;
  RouterFitProgressFn progress_;
  const std::atomic<bool>* cancel_;
  int total_, done_ = 0;
  MoeBlock original_;
};

}  // namespace

std::map<int, FittedRouter> fitRouters(const std::function<RouterMode(const LayerPlan&)>& modeOf, Model& model,
                                       const at::Tensor& calibIds, const MergePlan& plan,
                                       const RouterFitOptions& options, const RouterFitProgressFn& progress,
                                       const std::atomic<bool>* cancel) {
  plan.validate();
  int total = 0, lastLayer = -1;
  bool anyTied = false;
  const auto& moeLayers = model.moeLayers();
  for (const auto& lp : plan.layers) {
    if (lp.moeIndex < 0 || lp.moeIndex >= static_cast<int>(moeLayers.size()))
      throw invalid("router fit: the plan names MoE block " + std::to_string(lp.moeIndex) + ", the model has " +
                    std::to_string(moeLayers.size()));
    if (!mergeEntry(&lp) || !isFittedRouter(modeOf(lp))) continue;
    ++total;
    anyTied = anyTied || modeOf(lp) == RouterMode::TiedFit;
    lastLayer = std::max(lastLayer, moeLayers[static_cast<size_t>(lp.moeIndex)]);
  }
  if (total == 0) return {};
  if (!calibIds.defined() || calibIds.dim() != 2 || calibIds.numel() == 0)
    throw invalid("router fit: calibration token ids [sequences, length] are needed");
  const bool sequential = anyTied && options.sequential;
  RouterFitOptions fitOptions = options;
  if (cancel) fitOptions.cancel = cancel;
  FitObserver obs(modeOf, plan, fitOptions, sequential, progress, cancel, total);
  ForwardOptions fo;
  fo.computeLogits = false;
  fo.stopAfterLayer = lastLayer + 1;
  fo.moeOverride = [&obs](int j, MoeBlock& b) { obs.before(j, b); };
  model.forward(calibIds, &obs, fo);
  return std::move(obs.routers);
}

std::map<int, FittedRouter> fitRouters(RouterMode mode, Model& model, const at::Tensor& calibIds,
                                       const MergePlan& plan, const RouterFitOptions& options,
                                       const RouterFitProgressFn& progress, const std::atomic<bool>* cancel) {
  if (!isFittedRouter(mode)) return {};
  return fitRouters([mode](const LayerPlan&) { return mode; }, model, calibIds, plan, options, progress, cancel);
}

CompactRouterHook routerHookFrom(std::map<int, FittedRouter> routers) {
  if (routers.empty()) return {};
  auto shared = std::make_shared<const std::map<int, FittedRouter>>(std::move(routers));
  return [shared](int moeIndex, const MoeBlock&, MoeBlock& compact) {
    auto it = shared->find(moeIndex);
    if (it == shared->end() || it->second.weight.size(0) != compact.numSlots()) return;  // pruned / other plan
    applyFittedRouter(it->second, compact);
  };
}

CompactRouterHook makeRouterHook(RouterMode mode, Model& model, const at::Tensor& calibIds, const MergePlan& plan,
                                 const RouterFitOptions& options, const RouterFitProgressFn& progress,
                                 const std::atomic<bool>* cancel) {
  return routerHookFrom(fitRouters(mode, model, calibIds, plan, options, progress, cancel));
}

CompactRouterHook makeRouterHook(Model& model, const at::Tensor& calibIds, const MergePlan& plan,
                                 const RouterFitOptions& options, const RouterFitProgressFn& progress,
                                 const std::atomic<bool>* cancel) {
  return routerHookFrom(fitRouters([](const LayerPlan& lp) { return lp.router; }, model, calibIds, plan, options,
                                   progress, cancel));
}

}  // namespace moe
