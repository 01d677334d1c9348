#include "core/nn/moe_block.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "core/error.h"
#include "core/nn/functional.h"

namespace moe {

at::Tensor Float32Copy::of(const at::Tensor& source) const {
  if (!source.defined() || source.scalar_type() == at::kFloat) return source;
  const std::lock_guard<std::mutex> lock(mutex_);
  if (!source_.is_same(source)) copy_ = source.to(at::kFloat), source_ = source;
  return copy_;
}

at::Tensor MoeBlock::routerLogits(const at::Tensor& x) const {
  if (routerFloat32 && x.scalar_type() != at::kFloat)
    return dense(x.to(at::kFloat), routerWeightFloat32.of(routerWeight), routerBiasFloat32.of(routerBias));
  return dense(x, routerWeight, routerBias);
}

Routing MoeBlock::route(const at::Tensor& logits) const {
  if (routing.onlyRank > 0) {
    // SCMoE's rank-r routing: the rule ranks as usual; only its r-th choice runs, at weight 1.
    MoeBlock ranked;
    ranked.correctionBias = correctionBias;
    ranked.routing = routing;
    ranked.routing.onlyRank = 0;
    ranked.routing.topK = std::min<int64_t>(routing.onlyRank, logits.size(-1));
    Routing all = ranked.route(logits);
    Routing r;
    r.indices = all.indices.narrow(1, ranked.routing.topK - 1, 1).contiguous();
    r.weights = at::ones(r.indices.sizes(), all.weights.options());
    return r;
  }
  Routing r;
  at::Tensor l = logits.to(at::kFloat);
  const int64_t k = routing.topK;
  if (routing.rule == RoutingRule::SoftmaxTopK) {
    at::Tensor probs = at::softmax(l, -1);
    at::Tensor w, idx;
    if (correctionBias.defined()) {  // ERNIE-4.5: chosen by probability + bias, weighted by probability
      idx = std::get<1>((probs + correctionBias.to(at::kFloat).reshape({1, -1})).topk(k, -1));
      w = probs.gather(1, idx);
    } else {
      std::tie(w, idx) = probs.topk(k, -1);
    }
    if (routing.normalize) w = w / w.sum(-1, true).clamp_min(routing.normMin);
    r.indices = idx;
    r.weights = w;
  } else if (routing.rule == RoutingRule::SigmoidTopK) {
    // MiniMax-M2: top-k of the bias-corrected sigmoid scores, weights from the uncorrected scores.
    at::Tensor scores = at::sigmoid(l);
    at::Tensor choice = correctionBias.defined() ? scores + correctionBias.to(at::kFloat).reshape({1, -1}) : scores;
    at::Tensor idx = std::get<1>(choice.topk(k, -1));
    at::Tensor w = scores.gather(1, idx);
    if (routing.normalize) w = w / w.sum(-1, true);
    r.indices = idx;
    r.weights = w * routing.scalingFactor;
  } else {
    // DeepSeek-V3: choose among the top `topkGroup` groups (each scored by the sum of its two best
    // bias-corrected scores), then the top-k experts by bias-corrected score; weights come from
    // the uncorrected sigmoid scores.
    at::Tensor scores = at::sigmoid(l);
    at::Tensor choice = correctionBias.defined() ? scores + correctionBias.to(at::kFloat).unsqueeze(0) : scores;
    const int64_t N = l.size(0), E = l.size(1), G = routing.nGroup;
    at::Tensor groupScores = std::get<0>(choice.view({N, G, E / G}).topk(2, -1)).sum(-1);
    at::Tensor groupIdx = std::get<1>(groupScores.topk(routing.topkGroup, -1, true, false));
    at::Tensor groupMask = at::zeros_like(groupScores).scatter_(1, groupIdx, 1.0);
    at::Tensor scoreMask = groupMask.unsqueeze(-1).expand({N, G, E / G}).reshape({N, E});
    // Experts outside the chosen groups are excluded with -inf, not 0: a negative correction bias can
    // push in-group scores below 0 (as transformers does since huggingface/transformers#45441).
    at::Tensor masked = choice.masked_fill(scoreMask.logical_not(), -std::numeric_limits<float>::infinity());
    at::Tensor idx = std::get<1>(masked.topk(k, -1, true, false));
    at::Tensor w = scores.gather(1, idx);
    if (routing.normalize) w = w / (w.sum(-1, true) + 1e-20);
    r.indices = idx;
    r.weights = w * routing.scalingFactor;
  }
  return r;
}

namespace {

// The expert activation of gate and up projections of any shape (the one place it is written).
at::Tensor activate(const MoeBlock& b, at::Tensor g, at::Tensor u) {
  if (b.activation == ExpertActivation::SiLU) return at::silu(g) * u;
  g = g.clamp_max(b.gluLimit);
  u = u.clamp(-b.gluLimit, b.gluLimit);
  return (u + 1) * (g * at::sigmoid(g * b.gluAlpha));
}

}  // namespace

at::Tensor MoeBlock::slotHidden(int64_t s, const at::Tensor& x) const {
  at::Tensor g = dense(x, gate[s], gateBias.defined() ? gateBias[s] : at::Tensor());
  at::Tensor u = dense(x, up[s], upBias.defined() ? upBias[s] : at::Tensor());
  return activate(*this, g, u);
}

at::Tensor MoeBlock::slotsHidden(int64_t s, int64_t count, const at::Tensor& x) const {
  if (count == 1) return slotHidden(s, x).unsqueeze(1);
  const int64_t I = intermediateSize(), H = gate.size(2), M = x.size(0);
  auto stacked = [&](const at::Tensor& w) { return w.narrow(0, s, count).reshape({count * I, H}); };
  auto stackedBias = [&](const at::Tensor& bias) {
    return bias.defined() ? bias.narrow(0, s, count).reshape({count * I}) : at::Tensor();
  };
  at::Tensor g = dense(x, stacked(gate), stackedBias(gateBias)).view({M, count, I});
  at::Tensor u = dense(x, stacked(up), stackedBias(upBias)).view({M, count, I});
  return activate(*this, g, u);
}

at::Tensor MoeBlock::slotDown(int64_t s, const at::Tensor& hidden) const {
  return dense(hidden, down[s], downBias.defined() ? downBias[s] : at::Tensor());
}

at::Tensor MoeBlock::applySlot(int64_t s, const at::Tensor& x) const { return slotDown(s, slotHidden(s, x)); }

at::Tensor MoeBlock::applyExpert(int64_t expert, const at::Tensor& x) const { return applySlot(slotOf(expert), x); }

at::Tensor MoeBlock::sharedOutput(const at::Tensor& x) const {
  if (!shared) return at::zeros_like(x);
  at::Tensor out = swigluMlp(x, shared->gate, shared->up, shared->down);
  if (shared->sigmoidGate.defined()) out = at::sigmoid(dense(x, shared->sigmoidGate)) * out;
  return out;
}

at::Tensor MoeBlock::combine(const at::Tensor& x, const Routing& r) const {
  at::Tensor out = at::zeros_like(x);
  const int64_t E = numExperts();
  // Group the (token, slot) pairs by expert so each expert runs once on all of its tokens.
  at::Tensor flatIdx = r.indices.reshape(-1).to(at::kCPU);
  at::Tensor order = flatIdx.argsort();
  at::Tensor counts = at::bincount(flatIdx, {}, E);
  const int64_t k = r.indices.size(1);
  at::Tensor tokenOf = at::div(order, k, "floor").to(x.device());
  at::Tensor flatW = r.weights.reshape(-1).index_select(0, order.to(r.weights.device()));
  auto* c = counts.data_ptr<int64_t>();
  int64_t start = 0;
  for (int64_t e = 0; e < E; ++e) {
    if (c[e] == 0) continue;
    at::Tensor tok = tokenOf.narrow(0, start, c[e]);
    at::Tensor w = flatW.narrow(0, start, c[e]).unsqueeze(1);
    if (weightsScaleInput) {
      out.index_add_(0, tok, applyExpert(e, (x.index_select(0, tok).to(at::kFloat) * w).to(x.scalar_type())));
    } else {
      at::Tensor y = applyExpert(e, x.index_select(0, tok));
      out.index_add_(0, tok, (y.to(at::kFloat) * w).to(x.scalar_type()));
    }
    start += c[e];
  }
  return out;
}

at::Tensor MoeBlock::addShared(const at::Tensor& x, const at::Tensor& routed) const {
  return shared ? routed + sharedOutput(x) : routed;
}

at::Tensor MoeBlock::forward(const at::Tensor& x, at::Tensor* logitsOut, Routing* routingOut) const {
  at::Tensor logits = routerLogits(x);
  Routing r = route(logits);
  at::Tensor out = addShared(x, combine(x, r));
  if (logitsOut) *logitsOut = logits;
  if (routingOut) *routingOut = r;
  return out;
}

}  // namespace moe
