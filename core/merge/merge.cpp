#include "core/merge/merge.h"

#include <algorithm>
#include <numeric>

#include "core/engine/model.h"
#include "core/error.h"
#include "core/merge/neuron_alignment.h"

namespace moe {
namespace {

Error invalid(const std::string& msg) { return Error(ErrorKind::InvalidArgument, msg); }

void checkLabels(const std::vector<int64_t>& labels, int64_t K, int64_t E) {
  if (static_cast<int64_t>(labels.size()) != E)
    throw invalid("merge: " + std::to_string(labels.size()) + " group labels for a block of " + std::to_string(E) +
                  " experts");
  if (K <= 0 || K > E)
    throw invalid("merge: K = " + std::to_string(K) + " must lie in [1, " + std::to_string(E) + "]");
  for (int64_t l : labels)
    if (l < 0 || l >= K) throw invalid("merge: group label " + std::to_string(l) + " out of range [0, " + std::to_string(K) + ")");
}

// sum_e coeff[e] * t[slot(e)] over the members of each group -> [K, ...], in t's dtype.
at::Tensor combineRows(const at::Tensor& t, const std::vector<int64_t>& rowOf, const std::vector<int64_t>& labels,
                       int64_t K, const std::vector<double>& coeff) {
  if (!t.defined()) return t;
  std::vector<at::Tensor> out;
  out.reserve(static_cast<size_t>(K));
  for (int64_t g = 0; g < K; ++g) {
    at::Tensor acc;
    for (size_t e = 0; e < labels.size(); ++e) {
      if (labels[e] != g) continue;
      const double c = coeff[e];
      if (c == 0.0) continue;
      at::Tensor term = t[rowOf[e]].to(at::kFloat) * c;
      acc = acc.defined() ? acc + term : term;
    }
    if (!acc.defined()) acc = at::zeros(t[0].sizes(), t.options().dtype(at::kFloat));
    out.push_back(acc.to(t.scalar_type()));
  }
  return at::stack(out);
}

std::vector<int64_t> identity(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::vector<int64_t> slotsOf(const MoeBlock& block) {
  std::vector<int64_t> s(static_cast<size_t>(block.numExperts()));
  for (int64_t e = 0; e < block.numExperts(); ++e) s[static_cast<size_t>(e)] = block.slotOf(e);
  return s;
}

void mergeExperts(MoeBlock& out, const MoeBlock& block, const std::vector<int64_t>& labels, int64_t K,
                  const std::vector<double>& coeff) {
  const auto slots = slotsOf(block);
  out.gate = combineRows(block.gate, slots, labels, K, coeff);
  out.up = combineRows(block.up, slots, labels, K, coeff);
  out.down = combineRows(block.down, slots, labels, K, coeff);
  out.gateBias = combineRows(block.gateBias, slots, labels, K, coeff);
  out.upBias = combineRows(block.upBias, slots, labels, K, coeff);
  out.downBias = combineRows(block.downBias, slots, labels, K, coeff);
}

}  // namespace

std::vector<double> mergeCoefficients(const std::vector<int64_t>& labels, int64_t K, MergeStrategy strategy,
                                      const std::vector<double>& frequency, const std::vector<int64_t>& dominant) {
  const int64_t E = static_cast<int64_t>(labels.size());
  checkLabels(labels, K, E);
  std::vector<double> c(labels.size(), 0.0), total(static_cast<size_t>(K), 0.0), count(static_cast<size_t>(K), 0.0);
  for (size_t e = 0; e < labels.size(); ++e) count[static_cast<size_t>(labels[e])] += 1.0;
  switch (strategy) {
    case MergeStrategy::FrequencyWeighted:
    case MergeStrategy::Ream:  // REAM averages its groups with usage-frequency weights
      if (static_cast<int64_t>(frequency.size()) != E)
        throw invalid(std::string("merge: the ") +
                      (strategy == MergeStrategy::Ream ? "REAM" : "frequency-weighted") +
                      " merge needs one usage frequency per expert");
      for (size_t e = 0; e < labels.size(); ++e) total[static_cast<size_t>(labels[e])] += frequency[e];
      for (size_t e = 0; e < labels.size(); ++e) {
        const size_t g = static_cast<size_t>(labels[e]);
        c[e] = total[g] > 0.0 ? frequency[e] / total[g] : 1.0 / count[g];
      }
      return c;
    case MergeStrategy::Average:
      for (size_t e = 0; e < labels.size(); ++e) c[e] = 1.0 / count[static_cast<size_t>(labels[e])];
      return c;
    case MergeStrategy::Dominant:
      if (static_cast<int64_t>(dominant.size()) != K)
        throw invalid("merge: the dominant strategy needs one dominant member per group");
      for (int64_t g = 0; g < K; ++g) {
        const int64_t d = dominant[static_cast<size_t>(g)];
        if (d < 0 || d >= E || labels[static_cast<size_t>(d)] != g)
          throw invalid("merge: dominant member " + std::to_string(d) + " is not in group " + std::to_string(g));
        c[static_cast<size_t>(d)] = 1.0;
      }
      return c;
    case MergeStrategy::PruneFrequency:
    case MergeStrategy::PruneReap:
    case MergeStrategy::Keep: break;
  }
  throw invalid(std::string("merge: '") + mergeStrategyName(strategy) + "' is not a merge strategy");
}

std::vector<double> routerCoefficients(const std::vector<int64_t>& labels, int64_t K, RouterMode mode,
                                       const std::vector<double>& frequency) {
  // Fitted routers start from the plain average and are replaced by the router hook.
  return mergeCoefficients(labels, K,
                           mode == RouterMode::FrequencyWeighted ? MergeStrategy::FrequencyWeighted : MergeStrategy::Average,
                           frequency);
}

std::vector<int64_t> dominantMembers(const std::vector<int64_t>& labels, int64_t K, const at::Tensor& representation) {
  const int64_t E = static_cast<int64_t>(labels.size());
  checkLabels(labels, K, E);
  if (representation.dim() != 2 || representation.size(0) != E)
    throw invalid("dominant members: the representation must be [E, D] with E = " + std::to_string(E));
  at::Tensor rep = representation.to(at::kCPU).to(at::kDouble);
  std::vector<int64_t> out(static_cast<size_t>(K), -1);
  for (int64_t g = 0; g < K; ++g) {
    std::vector<int64_t> m;
    for (int64_t e = 0; e < E; ++e)
      if (labels[static_cast<size_t>(e)] == g) m.push_back(e);
    if (m.empty()) throw invalid("dominant members: group " + std::to_string(g) + " has no members");
    at::Tensor rows = rep.index_select(0, at::tensor(m, at::kLong).to(rep.device()));
    at::Tensor d = (rows - rows.mean(0, true)).pow(2).sum(1);
    double best = 0;
    for (size_t i = 0; i < m.size(); ++i) {
      const double v = d[static_cast<int64_t>(i)].item<double>();
      if (out[static_cast<size_t>(g)] < 0 || v < best) {
        best = v;
        out[static_cast<size_t>(g)] = m[i];
      }
    }
  }
  return out;
}

std::vector<int64_t> topKExperts(const std::vector<double>& scores, int64_t K) {
  const int64_t E = static_cast<int64_t>(scores.size());
  if (K <= 0 || K > E)
    throw invalid("prune: K = " + std::to_string(K) + " must lie in [1, " + std::to_string(E) + "] experts");
  std::vector<int64_t> order = identity(E);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return scores[static_cast<size_t>(a)] > scores[static_cast<size_t>(b)]; });
  order.resize(static_cast<size_t>(K));
  std::sort(order.begin(), order.end());
  return order;
}

RoutingConfig compactRouting(const RoutingConfig& source, int64_t K) {
  RoutingConfig r = source;
  r.topK = std::min(source.topK, K);
  if (r.rule == RoutingRule::SigmoidGroupLimited) {
    if (K < 2)
      throw invalid("compact merge: DeepSeek-V3 group-limited routing needs at least 2 experts per layer, got K = " +
                    std::to_string(K));
    const bool keep = r.nGroup >= 1 && K % r.nGroup == 0 && K / r.nGroup >= 2 && r.topkGroup <= r.nGroup &&
                      r.topK <= r.topkGroup * (K / r.nGroup);
    if (!keep) {
      r.nGroup = 1;
      r.topkGroup = 1;
    }
  }
  return r;
}

MoeBlock mergeTied(const MoeBlock& block, const std::vector<int64_t>& labels, int64_t K,
                   const std::vector<double>& coeff) {
  checkLabels(labels, K, block.numExperts());
  if (coeff.size() != labels.size()) throw invalid("merge: one coefficient per expert is needed");
  MoeBlock out = block;
  mergeExperts(out, block, labels, K, coeff);
  out.expertSlot = labels;
  return out;
}

MoeBlock mergeCompact(const MoeBlock& block, const std::vector<int64_t>& labels, int64_t K,
                      const std::vector<double>& coeff, const std::vector<double>& routerCoeffs) {
  checkLabels(labels, K, block.numExperts());
  if (coeff.size() != labels.size() || routerCoeffs.size() != labels.size())
    throw invalid("merge: one coefficient per expert is needed");
  MoeBlock out = block;
  mergeExperts(out, block, labels, K, coeff);
  const auto rows = identity(block.numExperts());
  out.routerWeight = combineRows(block.routerWeight, rows, labels, K, routerCoeffs);
  out.routerBias = combineRows(block.routerBias, rows, labels, K, routerCoeffs);
  out.correctionBias = combineRows(block.correctionBias, rows, labels, K, routerCoeffs);
  out.routing = compactRouting(block.routing, K);
  out.expertSlot.clear();
  return out;
}

MoeBlock pruneCompact(const MoeBlock& block, const std::vector<int64_t>& kept) {
  const int64_t E = block.numExperts(), K = static_cast<int64_t>(kept.size());
  if (K <= 0 || K > E) throw invalid("prune: K = " + std::to_string(K) + " must lie in [1, " + std::to_string(E) + "]");
  for (int64_t e : kept)
    if (e < 0 || e >= E) throw invalid("prune: kept expert " + std::to_string(e) + " out of range");
  std::vector<int64_t> slots;
  for (int64_t e : kept) slots.push_back(block.slotOf(e));
  at::Tensor slotIdx = at::tensor(slots, at::kLong).to(block.gate.device());
  at::Tensor rowIdx = at::tensor(kept, at::kLong).to(block.routerWeight.device());
  auto pick = [](const at::Tensor& t, const at::Tensor& idx) { return t.defined() ? t.index_select(0, idx) : t; };
  MoeBlock out = block;
  out.gate = pick(block.gate, slotIdx);
  out.up = pick(block.up, slotIdx);
  out.down = pick(block.down, slotIdx);
  out.gateBias = pick(block.gateBias, slotIdx);
  out.upBias = pick(block.upBias, slotIdx);
  out.downBias = pick(block.downBias, slotIdx);
  out.routerWeight = pick(block.routerWeight, rowIdx);
  out.routerBias = pick(block.routerBias, rowIdx);
  out.correctionBias = pick(block.correctionBias, rowIdx);
  out.routing = compactRouting(block.routing, K);
  out.expertSlot.clear();
  return out;
}

MoeBlock applyLayerPlan(const MoeBlock& block, const LayerPlan& plan, MergeSemantics semantics,
                        const CompactRouterHook& routerHook) {
  plan.validate();
  if (plan.numExperts != block.numExperts())
    throw invalid("merge: the plan for MoE block " + std::to_string(plan.moeIndex) + " lists " +
                  std::to_string(plan.numExperts) + " experts, the block has " + std::to_string(block.numExperts()));
  if (plan.strategy == MergeStrategy::Keep) return block;
  MoeBlock out;
  if (isPruneStrategy(plan.strategy)) {
    out = pruneCompact(block, plan.kept);
  } else {
    // Neuron alignment: the members permuted onto their group's reference (each expert computes
    // the same function as before), then the usual merge of the permuted block.
    MoeBlock aligned;
    const MoeBlock* source = &block;
    if (plan.needsAlignment()) {
      if (!plan.neuronPermutation)
        throw invalid("merge: MoE block " + std::to_string(plan.moeIndex) +
                      " asks for neuron alignment (align_neurons) but no permutations were computed; they come "
                      "from calibration tokens (alignPlanNeurons, core/merge/neuron_alignment.h)");
      aligned = permuteExpertNeurons(block, *plan.neuronPermutation);
      source = &aligned;
    }
    const auto coeff = mergeCoefficients(plan.labels, plan.numGroups, plan.strategy, plan.usageFrequency, plan.dominant);
    if (semantics == MergeSemantics::Tied) return mergeTied(*source, plan.labels, plan.numGroups, coeff);
    // REAM's compact router keeps the centroids' rows (a fitted router replaces them below).
    const auto routerCoeffs =
        plan.strategy == MergeStrategy::Ream
            ? mergeCoefficients(plan.labels, plan.numGroups, MergeStrategy::Dominant, {}, plan.dominant)
            : routerCoefficients(plan.labels, plan.numGroups, plan.router, plan.usageFrequency);
    out = mergeCompact(*source, plan.labels, plan.numGroups, coeff, routerCoeffs);
  }
  if (routerHook) {
    routerHook(plan.moeIndex, block, out);
    if (out.routerWeight.dim() != 2 || out.routerWeight.size(0) != out.numSlots())
      throw invalid("merge: the router hook left MoE block " + std::to_string(plan.moeIndex) +
                    " without one router row per expert");
  }
  return out;
}

std::function<void(int, MoeBlock&)> planOverride(const MergePlan& plan, MergeSemantics semantics,
                                                 const CompactRouterHook& routerHook) {
  plan.validate();
  return [plan, semantics, routerHook](int moeIndex, MoeBlock& block) {
    if (const LayerPlan* lp = plan.find(moeIndex)) block = applyLayerPlan(block, *lp, semantics, routerHook);
  };
}

void checkPlanForModel(const MergePlan& plan, const Model& model, const std::string& fingerprint) {
  std::vector<int64_t> experts(model.moeLayers().size(), model.arch().numExperts());
  plan.checkModel(fingerprint, experts, model.moeLayers());
}

void roundBlockTo(MoeBlock& block, at::ScalarType dtype) {
  auto r = [&](at::Tensor& t) {
    if (!t.defined()) return;
    const at::ScalarType original = t.scalar_type();
    t = t.to(dtype).to(original);
  };
  for (at::Tensor* t : {&block.routerWeight, &block.routerBias, &block.correctionBias, &block.gate, &block.up,
                        &block.down, &block.gateBias, &block.upBias, &block.downBias})
    r(*t);
  if (block.shared) {
    r(block.shared->gate);
    r(block.shared->up);
    r(block.shared->down);
    r(block.shared->sigmoidGate);
  }
}

}  // namespace moe
