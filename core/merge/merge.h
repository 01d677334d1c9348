#pragma once
// Expert merging and pruning on the uniform MoeBlock view.
//   * tied (the paper's evaluated model): router unchanged, K merged slots, every member expert
//     mapped onto its group's slot through MoeBlock::expertSlot;
//   * compact (a standard checkpoint with K experts): one router row per group (or the kept rows
//     when pruning), num_experts_per_tok = min(top-k, K).
// All arithmetic is done in fp32 whatever the block's dtype; results come back in the block's dtype.
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

#include "core/merge/plan.h"
#include "core/nn/moe_block.h"

namespace moe {

class Model;

// Per-expert mixing coefficient inside its group; the coefficients of a group sum to 1.
//   FrequencyWeighted: frequency / group total (plain average when the group total is 0);
//   Average: 1 / group size; Dominant: 1 for dominant[group], 0 for the other members.
std::vector<double> mergeCoefficients(const std::vector<int64_t>& labels, int64_t numGroups, MergeStrategy strategy,
                                      const std::vector<double>& frequency = {},
                                      const std::vector<int64_t>& dominant = {});
std::vector<double> routerCoefficients(const std::vector<int64_t>& labels, int64_t numGroups, RouterMode mode,
                                       const std::vector<double>& frequency = {});

// The member of each group closest (Euclidean) to the mean of its members' rows in `representation`
// [E, D] (e.g. the analysis' expert-output means). Ties go to the lower expert index.
std::vector<int64_t> dominantMembers(const std::vector<int64_t>& labels, int64_t numGroups, const at::Tensor& representation);

// The K experts with the highest scores, in ascending expert order (ties: lower index first).
// F-prune passes usage frequencies, REAP passes REAP scores. Throws InvalidArgument for K out of [1, E].
std::vector<int64_t> topKExperts(const std::vector<double>& scores, int64_t K);
inline std::vector<int64_t> fPruneKeep(const std::vector<double>& usageFrequency, int64_t K) {
  return topKExperts(usageFrequency, K);
}
inline std::vector<int64_t> reapKeep(const std::vector<double>& reapScores, int64_t K) { return topKExperts(reapScores, K); }

// Merged expert weights (and biases) of each group: slot g = sum over members e of coeff[e] * W[e].
// The block may itself be tied (expertSlot set): member weights are read through slotOf(e).
MoeBlock mergeTied(const MoeBlock& block, const std::vector<int64_t>& labels, int64_t numGroups,
                   const std::vector<double>& coefficients);
MoeBlock mergeCompact(const MoeBlock& block, const std::vector<int64_t>& labels, int64_t numGroups,
                      const std::vector<double>& coefficients, const std::vector<double>& routerCoeffs);
MoeBlock pruneCompact(const MoeBlock& block, const std::vector<int64_t>& kept);

// Routing of a compact block with K experts: top-k = min(top-k, K); DeepSeek's group-limited
// selection keeps n_group when K splits into n_group groups of >= 2 experts that can supply top-k,
// and falls back to one group (n_group = topk_group = 1) otherwise.
RoutingConfig compactRouting(const RoutingConfig& source, int64_t K);

enum class MergeSemantics { Tied, Compact };

// Hook for routers fitted on calibration data (the logsumexp least-squares fit, the soft-label
// logistic regression, still to be written): called after a compact merge with the original block
// and the compact one, whose routerWeight / routerBias / correctionBias it may replace ([K, H] / [K]).
using CompactRouterHook = std::function<void(int moeIndex, const MoeBlock& original, MoeBlock& compact)>;

// One plan entry applied to a block: "keep" returns it unchanged; pruning has no tied form (the
// dropped experts have no weights to map to), so both semantics give the compact pruned block.
MoeBlock applyLayerPlan(const MoeBlock& block, const LayerPlan& plan, MergeSemantics semantics,
                        const CompactRouterHook& routerHook = {});

// A ForwardOptions::moeOverride that applies every entry of the plan.
std::function<void(int, MoeBlock&)> planOverride(const MergePlan& plan, MergeSemantics semantics,
                                                 const CompactRouterHook& routerHook = {});

// Checks that the plan fits the model (fingerprint -> Stale; block count, experts, layers -> InvalidArgument).
void checkPlanForModel(const MergePlan& plan, const Model& model, const std::string& fingerprint);

// Rounds every tensor of the block through `dtype` (e.g. bf16) and back, as storing it would.
void roundBlockTo(MoeBlock& block, at::ScalarType dtype);

}  // namespace moe
