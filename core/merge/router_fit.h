#pragma once
// Compact routers fitted on calibration inputs: the K router rows (and bias where the architecture
// has one) of a compact merge, chosen so that the compact block's routing imitates the original's
// (or the tied model's). The result is always a plain router — the checkpoint keeps the
// architecture's own routing rule, nothing custom runs at inference.
//
// Modes (RouterMode, core/merge/plan.h):
//   lse-fit:  ridge regression of each group's logsumexp of member logits on the block input
//             (closed form), on the original model's block inputs;
//   soft-fit: soft-label logistic regression: the softmax over groups matches the summed member
//             probabilities (preconditioned gradient descent on the cross-entropy, ridge, started
//             from lse-fit), on the original model's block inputs;
//   tied-fit: layer by layer on the compact model's own inputs (blocks before have their fitted
//             routers): the target is the tied block on those inputs. First the cross-entropy
//             against the tied per-group routing weights (sum of member weights after top-k), then
//             the routed output itself (squared error against the tied block's output, through the
//             architecture's top-k and renormalisation).
// Sigmoid (DeepSeek-V3) routers: every mode fits the group's logsumexp of member logits (the
// correction bias stays the members' average).
#include <ATen/ATen.h>

#include <atomic>
#include <functional>
#include <map>
#include <vector>

#include "core/merge/merge.h"
#include "core/merge/plan.h"
#include "core/nn/moe_block.h"

namespace moe {

class Model;

struct RouterFitOptions {
  double ridge = 1e-3;          // Tikhonov weight, relative to the mean diagonal of X^T X / N
  int iterations = 40;          // cross-entropy iterations (soft-fit, tied-fit)
  int refineIterations = 40;    // output-matching iterations (tied-fit)
  int64_t maxTokens = 8192;     // calibration tokens used per block (evenly strided subsample)
  // tied-fit: fit on the compact model's own (sequential) block inputs; false: the original's.
  bool sequential = true;
  bool refineOutput = true;     // tied-fit: the output-matching stage
  // Checked at every iteration of the iterative fits (throws Cancelled), so Cancel does not wait for
  // a whole layer's fit; makeRouterHook sets it from its own `cancel`.
  const std::atomic<bool>* cancel = nullptr;
};

// Ridge regression of Y [N, K] on X [N, D] (with a constant column when `intercept`): the [K, D(+1)]
// matrix B minimising ||[X 1] B^T - Y||^2 / N + lambda ||B||^2 (the intercept is not penalised).
// lambda is absolute here. Computed in float64.
at::Tensor ridgeRegression(const at::Tensor& X, const at::Tensor& Y, double lambda, bool intercept);

struct FittedRouter {
  at::Tensor weight;          // [K, H]
  at::Tensor bias;            // [K] or undefined (only where the source router has a bias)
  at::Tensor correctionBias;  // [K] or undefined (DeepSeek-V3)
};

// The fitted router of one block. `original` is the block as the model holds it, `compact` its
// compact merge (experts merged, plain-average router rows), `labels` the group of every expert,
// `x` [N, H] the block's calibration inputs (the original model's, or the compact model's own).
FittedRouter fitCompactRouter(RouterMode mode, const MoeBlock& original, const MoeBlock& compact,
                              const std::vector<int64_t>& labels, const at::Tensor& x,
                              const RouterFitOptions& options = {});
// Replaces the compact block's router rows (converted to its dtype/device).
void applyFittedRouter(const FittedRouter& router, MoeBlock& compact);

using RouterFitProgressFn = std::function<void(int moeDone, int moeTotal)>;

// The entry point for the CLI and the GUI: runs the forward passes a mode needs over `calibIds`
// [B, T] (one pass; tied-fit fits each block as the pass reaches it) and returns the hook for
// planOverride / ExportOptions::routerHook. Average and frequency need no fit: an empty hook.
// Blocks that are kept or pruned are left alone. Throws Cancelled when `cancel` is set.
CompactRouterHook makeRouterHook(RouterMode mode, Model& model, const at::Tensor& calibIds, const MergePlan& plan,
                                 const RouterFitOptions& options = {}, const RouterFitProgressFn& progress = {},
                                 const std::atomic<bool>* cancel = nullptr);

// The same with each block's own LayerPlan::router (blocks whose router is not fitted are left
// to mergeCompact). When any block uses tied-fit (sequential), every fitted block is fitted on the
// compact model's own inputs.
CompactRouterHook makeRouterHook(Model& model, const at::Tensor& calibIds, const MergePlan& plan,
                                 const RouterFitOptions& options = {}, const RouterFitProgressFn& progress = {},
                                 const std::atomic<bool>* cancel = nullptr);

// The fitted routers themselves, per MoE block index (what makeRouterHook's hook installs).
std::map<int, FittedRouter> fitRouters(RouterMode mode, Model& model, const at::Tensor& calibIds,
                                       const MergePlan& plan, const RouterFitOptions& options = {},
                                       const RouterFitProgressFn& progress = {},
                                       const std::atomic<bool>* cancel = nullptr);
// Per block: `modeOf` gives the mode of each plan entry.
std::map<int, FittedRouter> fitRouters(const std::function<RouterMode(const LayerPlan&)>& modeOf, Model& model,
                                       const at::Tensor& calibIds, const MergePlan& plan,
                                       const RouterFitOptions& options = {}, const RouterFitProgressFn& progress = {},
                                       const std::atomic<bool>* cancel = nullptr);
CompactRouterHook routerHookFrom(std::map<int, FittedRouter> routers);

}  // namespace moe
