#include "core/merge/neuron_alignment.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include "core/engine/model.h"
#include "core/error.h"

namespace moe {
namespace {

Error invalid(const std::string& msg) { return Error(ErrorKind::InvalidArgument, msg); }

std::string blockName(int moeIndex) { return "MoE block " + std::to_string(moeIndex); }

void checkCancel(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load()) throw Error(ErrorKind::Cancelled, "neuron alignment cancelled");
}

// Evenly strided rows of x (all of them when there are at most n), as the router fit samples.
at::Tensor subsampleRows(const at::Tensor& x, int64_t n) {
  const int64_t N = x.size(0);
  if (n <= 0 || N <= n) return x;
  at::Tensor idx = at::floor(at::arange(n, at::kDouble) * (static_cast<double>(N) / static_cast<double>(n))).to(at::kLong);
  return x.index_select(0, idx.to(x.device()));
}

// Columns centred and scaled to unit norm (float64, on the input's device), so that Z_a^T Z_b is
// the Pearson correlation. A column that is constant up to rounding becomes zero: its correlation
// is undefined, and 0 leaves the assignment free to pair it with anything.
at::Tensor standardizeColumns(const at::Tensor& a) {
  at::Tensor d = a.to(at::kDouble);
  at::Tensor c = d - d.mean(0, true);
  at::Tensor norm = c.pow(2).sum(0, true).sqrt();
  at::Tensor scale = d.abs().amax(0, true) * std::sqrt(static_cast<double>(d.size(0)));
  at::Tensor constant = norm <= scale * 1e-12;
  return at::where(constant, at::zeros_like(c), c / norm.clamp_min(std::numeric_limits<double>::min()));
}

// -C as a row-major cost matrix for solveAssignment (maximising the correlation).
std::vector<double> negatedCost(const at::Tensor& C) {
  at::Tensor c = C.to(at::kCPU).to(at::kDouble).contiguous();
  const double* p = c.data_ptr<double>();
  std::vector<double> out(static_cast<size_t>(c.numel()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = -p[i];
  return out;
}

void checkPermutation(const std::vector<int64_t>& p, int64_t I, int64_t expert) {
  if (static_cast<int64_t>(p.size()) != I)
    throw invalid("neuron alignment: the permutation of expert " + std::to_string(expert) + " has " +
                  std::to_string(p.size()) + " entries, the expert has " + std::to_string(I) + " neurons");
  std::vector<char> seen(static_cast<size_t>(I), 0);
  for (int64_t v : p) {
    if (v < 0 || v >= I || seen[static_cast<size_t>(v)])
      throw invalid("neuron alignment: the permutation of expert " + std::to_string(expert) +
                    " is not a permutation of 0.." + std::to_string(I - 1));
    seen[static_cast<size_t>(v)] = 1;
  }
}

}  // namespace

std::vector<int64_t> solveAssignment(const std::vector<double>& cost, int64_t n) {
  if (n < 0 || static_cast<int64_t>(cost.size()) != n * n)
    throw invalid("assignment: a " + std::to_string(n) + " x " + std::to_string(n) + " cost matrix needs " +
                  std::to_string(n * n) + " values, got " + std::to_string(cost.size()));
  for (double c : cost)
    if (!std::isfinite(c)) throw invalid("assignment: the cost matrix holds a non-finite value");
  // Shortest augmenting paths with row potentials u and column potentials v (1-based; column 0 is
  // the virtual start). Each row is added in O(n^2), O(n^3) in all.
  const double inf = std::numeric_limits<double>::infinity();
  const size_t N = static_cast<size_t>(n);
  std::vector<double> u(N + 1, 0.0), v(N + 1, 0.0), minv(N + 1);
  std::vector<size_t> rowOfCol(N + 1, 0), way(N + 1, 0);
  std::vector<char> used(N + 1);
  for (size_t i = 1; i <= N; ++i) {
    rowOfCol[0] = i;
    size_t j0 = 0;
    std::fill(minv.begin(), minv.end(), inf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[j0] = 1;
      const size_t i0 = rowOfCol[j0];
      const double* row = cost.data() + (i0 - 1) * N;
      double delta = inf;
      size_t j1 = 0;
      for (size_t j = 1; j <= N; ++j) {
        if (used[j]) continue;
        const double cur = row[j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (size_t j = 0; j <= N; ++j) {
        if (used[j]) {
          u[rowOfCol[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (rowOfCol[j0] != 0);
    do {  // flip the augmenting path
      const size_t j1 = way[j0];
      rowOfCol[j0] = rowOfCol[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> col(N);
  for (size_t j = 1; j <= N; ++j) col[rowOfCol[j] - 1] = static_cast<int64_t>(j - 1);
  return col;
}

at::Tensor neuronCorrelation(const at::Tensor& a, const at::Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(0) != b.size(0) || a.size(0) < 2)
    throw invalid("neuron correlation: activations [N, I] and [N, J] with the same N >= 2 are needed");
  return standardizeColumns(a).t().mm(standardizeColumns(b)).to(at::kCPU);
}

std::vector<int64_t> alignmentPermutation(const MoeBlock& block, int64_t reference, int64_t member, const at::Tensor& x) {
  const int64_t E = block.numExperts();
  if (reference < 0 || reference >= E || member < 0 || member >= E)
    throw invalid("neuron alignment: expert out of range [0, " + std::to_string(E) + ")");
  const at::Tensor C = neuronCorrelation(block.slotHidden(block.slotOf(reference), x),
                                         block.slotHidden(block.slotOf(member), x));
  return solveAssignment(negatedCost(C), C.size(0));
}

std::vector<int64_t> alignmentReferences(const LayerPlan& plan) {
  const auto members = plan.members();
  const bool hasCentre = (plan.strategy == MergeStrategy::Dominant || plan.strategy == MergeStrategy::Ream) &&
                         plan.dominant.size() == members.size();
  const bool hasUsage = static_cast<int64_t>(plan.usageFrequency.size()) == plan.numExperts;
  std::vector<int64_t> ref(members.size(), -1);
  for (size_t g = 0; g < members.size(); ++g) {
    if (members[g].empty()) continue;
    if (hasCentre) {
      ref[g] = plan.dominant[g];
      continue;
    }
    ref[g] = members[g].front();  // ascending, so ties keep the lower index
    if (!hasUsage) continue;
    for (int64_t e : members[g])
      if (plan.usageFrequency[static_cast<size_t>(e)] > plan.usageFrequency[static_cast<size_t>(ref[g])]) ref[g] = e;
  }
  return ref;
}

NeuronPermutations alignBlockNeurons(const MoeBlock& block, const LayerPlan& plan, const at::Tensor& xIn,
                                     const NeuronAlignOptions& options, const std::atomic<bool>* cancel) {
  plan.validate();
  const int64_t E = block.numExperts();
  if (plan.numExperts != E)
    throw invalid("neuron alignment: the plan for " + blockName(plan.moeIndex) + " lists " +
                  std::to_string(plan.numExperts) + " experts, the block has " + std::to_string(E));
  NeuronPermutations perms(static_cast<size_t>(E));
  if (!averagesMembers(plan.strategy)) return perms;
  if (xIn.dim() != 2 || xIn.size(1) != block.hiddenSize() || xIn.size(0) < 2)
    throw invalid("neuron alignment: calibration inputs of " + blockName(plan.moeIndex) +
                  " must be [N, hidden] with N >= 2");
  const at::Tensor x = subsampleRows(xIn, options.maxTokens).to(block.gate.device()).to(block.gate.scalar_type());
  const auto members = plan.members();
  const auto refs = alignmentReferences(plan);
  // (reference, member) pairs; the correlations come from ATen, the assignments run in parallel in
  // chunks bounded to ~512 MB of correlation matrices.
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (size_t g = 0; g < members.size(); ++g)
    for (int64_t e : members[g])
      if (e != refs[g]) pairs.emplace_back(refs[g], e);
  const int64_t I = block.intermediateSize();
  const int64_t perMatrix = std::max<int64_t>(1, I * I * 8);
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), (int64_t(512) << 20) / perMatrix));
  std::map<int64_t, at::Tensor> refHidden;  // standardized activations of each reference
  for (size_t start = 0; start < pairs.size(); start += static_cast<size_t>(chunk)) {
    const size_t end = std::min(pairs.size(), start + static_cast<size_t>(chunk));
    std::vector<std::vector<double>> costs;
    for (size_t k = start; k < end; ++k) {
      checkCancel(cancel);
      const auto [r, m] = pairs[k];
      auto it = refHidden.find(r);
      if (it == refHidden.end()) it = refHidden.emplace(r, standardizeColumns(block.slotHidden(block.slotOf(r), x))).first;
      const at::Tensor zm = standardizeColumns(block.slotHidden(block.slotOf(m), x));
      costs.push_back(negatedCost(it->second.t().mm(zm)));
    }
    std::vector<std::vector<int64_t>> cols(costs.size());
    at::parallel_for(0, static_cast<int64_t>(costs.size()), 1, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) cols[static_cast<size_t>(k)] = solveAssignment(costs[static_cast<size_t>(k)], I);
    });
    for (size_t k = start; k < end; ++k) perms[static_cast<size_t>(pairs[k].second)] = std::move(cols[k - start]);
    // Pairs come group by group: only the next pair's reference can be needed again.
    for (auto it = refHidden.begin(); it != refHidden.end();)
      it = end < pairs.size() && it->first == pairs[end].first ? std::next(it) : refHidden.erase(it);
  }
  return perms;
}

MoeBlock permuteExpertNeurons(const MoeBlock& block, const NeuronPermutations& perms) {
  const int64_t E = block.numExperts(), I = block.intermediateSize();
  if (static_cast<int64_t>(perms.size()) != E)
    throw invalid("neuron alignment: " + std::to_string(perms.size()) + " permutations for a block of " +
                  std::to_string(E) + " experts");
  bool any = false;
  for (int64_t e = 0; e < E; ++e) {
    const auto& p = perms[static_cast<size_t>(e)];
    if (p.empty()) continue;
    checkPermutation(p, I, e);
    any = true;
  }
  if (!any) return block;
  // Expert e's rows (dim 0 of gate/up and their biases) and down columns (dim 1), permuted; the
  // down bias is per output, not per neuron.
  auto permuted = [&](const at::Tensor& t, int64_t dim) -> at::Tensor {
    if (!t.defined()) return t;
    std::vector<at::Tensor> rows;
    for (int64_t e = 0; e < E; ++e) {
      at::Tensor s = t[block.slotOf(e)];
      const auto& p = perms[static_cast<size_t>(e)];
      if (dim >= 0 && !p.empty()) s = s.index_select(dim, at::tensor(p, at::kLong).to(s.device()));
      rows.push_back(s);
    }
    return at::stack(rows);
  };
  MoeBlock out = block;
  out.gate = permuted(block.gate, 0);
  out.up = permuted(block.up, 0);
  out.down = permuted(block.down, 1);
  out.gateBias = permuted(block.gateBias, 0);
  out.upBias = permuted(block.upBias, 0);
  out.downBias = permuted(block.downBias, -1);
  out.expertSlot.clear();
  return out;
}

bool planNeedsNeuronAlignment(const MergePlan& plan) {
  for (const auto& l : plan.layers)
    if (l.needsAlignment() && !l.neuronPermutation) return true;
  return false;
}

namespace {

class AlignObserver : public ForwardObserver {
 public:
  AlignObserver(MergePlan& plan, const NeuronAlignOptions& opt, const NeuronAlignProgressFn& progress,
                const std::atomic<bool>* cancel, int total)
      : plan_(plan), opt_(opt), progress_(progress), cancel_(cancel), total_(total) {}

  void onMoeBlock(const MoeTrace& t) override {
    LayerPlan* lp = nullptr;
    for (auto& l : plan_.layers)
      if (l.moeIndex == t.moeIndex) lp = &l;
    if (!lp || !lp->needsAlignment()) return;
    if (!t.block) throw invalid("neuron alignment: the forward pass gave no weights for " + blockName(t.moeIndex));
    lp->neuronPermutation = std::make_shared<const NeuronPermutations>(alignBlockNeurons(*t.block, *lp, t.input, opt_, cancel_));
    ++done_;
    if (progress_) progress_(done_, total_);
  }

  bool cancelled() const override { return cancel_ && cancel_->load(); }

 private:
  MergePlan& plan_;
  NeuronAlignOptions opt_;
  NeuronAlignProgressFn progress_;
  const std::atomic<bool>* cancel_;
  int total_, done_ = 0;
};

}  // namespace

void alignPlanNeurons(MergePlan& plan, Model& model, const at::Tensor& calibIds, const NeuronAlignOptions& options,
                      const NeuronAlignProgressFn& progress, const std::atomic<bool>* cancel) {
  plan.validate();
  const auto& moeLayers = model.moeLayers();
  int total = 0, lastLayer = -1;
  for (const auto& lp : plan.layers) {
    if (lp.moeIndex < 0 || lp.moeIndex >= static_cast<int>(moeLayers.size()))
      throw invalid("neuron alignment: the plan names " + blockName(lp.moeIndex) + ", the model has " +
                    std::to_string(moeLayers.size()) + " MoE blocks");
    if (!lp.needsAlignment()) continue;
    ++total;
    lastLayer = std::max(lastLayer, moeLayers[static_cast<size_t>(lp.moeIndex)]);
  }
  if (total == 0) return;
  if (!calibIds.defined() || calibIds.dim() != 2 || calibIds.numel() == 0)
    throw invalid("neuron alignment (align_neurons): calibration token ids [sequences, length] are needed");
  checkCancel(cancel);
  // Computed on a copy: a cancelled or failed pass leaves the caller's plan as it was.
  MergePlan work = plan;
  AlignObserver obs(work, options, progress, cancel, total);
  ForwardOptions fo;
  fo.computeLogits = false;
  fo.stopAfterLayer = lastLayer + 1;
  model.forward(calibIds, &obs, fo);
  checkCancel(cancel);
  for (const auto& lp : work.layers)
    if (lp.needsAlignment() && !lp.neuronPermutation)
      throw invalid("neuron alignment: the forward pass did not reach " + blockName(lp.moeIndex));
  plan = std::move(work);
}

}  // namespace moe
