#pragma once
// The uniform view of one MoE block, whatever its on-disk layout (per-expert tensors, GraniteMoE's
// packed tensors, gpt-oss's fused tensors): router, routing rule, stacked expert weights in
// nn.Linear orientation, optional shared expert. Analysis and merging work on this view only.
#include <ATen/ATen.h>

#include <mutex>
#include <optional>
#include <vector>

namespace moe {

// A float32 copy of a tensor, made on first use and kept while the tensor asked about is the same
// object (a reassigned member gets a new copy; nothing writes these weights in place). Copying the
// owner does not copy the cache: a copied block is usually changed (merges reassign its router).
// Safe to use from several threads.
class Float32Copy {
 public:
  Float32Copy() = default;
  Float32Copy(const Float32Copy&) {}
  Float32Copy& operator=(const Float32Copy&) {
    const std::lock_guard<std::mutex> lock(mutex_);
    source_ = copy_ = at::Tensor();
    return *this;
  }
  at::Tensor of(const at::Tensor& source) const;

 private:
  mutable std::mutex mutex_;
  mutable at::Tensor source_, copy_;
};

enum class ExpertActivation {
  SiLU,              // down(silu(gate x) * up x)
  GptOssClampedGLU,  // g = clamp(gate x, max=L), u = clamp(up x, -L, L): down((u + 1) * g * sigmoid(alpha g))
};

enum class RoutingRule {
  // Softmax over all logits, top-k; optionally renormalised over the k. With a correction bias
  // (ERNIE-4.5's moe_statics) the k are chosen by probability + bias, weighted by the probabilities.
  SoftmaxTopK,
  SigmoidGroupLimited,  // DeepSeek-V3: sigmoid scores, correction bias for selection, group-limited top-k
  SigmoidTopK,          // MiniMax-M2: sigmoid scores, correction bias for selection, plain top-k
};

struct RoutingConfig {
  RoutingRule rule = RoutingRule::SoftmaxTopK;
  int64_t topK = 1;
  bool normalize = false;      // renormalise the k weights to sum to 1
  double normMin = 0.0;        // softmax rule: the sum is clamped to at least this (ERNIE's moe_norm_min)
  double scalingFactor = 1.0;  // DeepSeek's routed_scaling_factor
  int64_t nGroup = 1;
  int64_t topkGroup = 1;
  // SCMoE's weak "rank-r" routing (core/eval/generate.h): only the expert the rule ranks r-th
  // (1-based) is used, with weight 1. 0: the rule's own top-k.
  int64_t onlyRank = 0;
};

struct Routing {
  at::Tensor indices;  // [N, k] int64
  at::Tensor weights;  // [N, k] fp32
};

struct SharedExpert {
  at::Tensor gate, up, down;  // [Is, H], [Is, H], [H, Is]
  at::Tensor sigmoidGate;     // [1, H] (Qwen2-MoE's shared_expert_gate) or undefined
};

class MoeBlock {
 public:
  // Router: logits = x @ routerWeight.T (+ routerBias). DeepSeek's selection also adds correctionBias.
  at::Tensor routerWeight, routerBias, correctionBias;
  // The router's product in float32 whatever the compute dtype, as these architectures' reference
  // code does (transformers' DeepSeek-V3/V3.2 and GLM-4.5 routers, ERNIE-4.5's gate, DeepSeek's and
  // Moonshot's remote code): in a bf16 run the logits are not rounded to bf16's 8 bits, which would
  // tie and reorder close experts. The others' routers run in the compute dtype, as theirs do.
  bool routerFloat32 = false;
  // routerWeight and routerBias in float32 for a routerFloat32 block of another dtype: converted
  // once per block, not on every call (a DeepSeek-V3 router is 1.8 M values, converted per token
  // and layer in generation).
  Float32Copy routerWeightFloat32, routerBiasFloat32;
  RoutingConfig routing;
  // Stored expert weights, stacked on dim 0 in nn.Linear orientation.
  at::Tensor gate, up, down;              // [S, I, H], [S, I, H], [S, H, I]
  at::Tensor gateBias, upBias, downBias;  // [S, I], [S, I], [S, H] or undefined
  ExpertActivation activation = ExpertActivation::SiLU;
  // Llama-4: the routing weight scales each chosen expert's input, not its output, so the routed
  // part is sum_k expert_k(w_k x) (the same only for experts that are linear in x).
  bool weightsScaleInput = false;
  double gluAlpha = 1.702, gluLimit = 7.0;
  std::optional<SharedExpert> shared;
  // Expert e (as the router numbers it) uses stored slot expertSlot[e]; empty means slot e.
  // This is how a tied merge (the paper's evaluation) maps members onto merged weights.
  std::vector<int64_t> expertSlot;

  int64_t numExperts() const { return routerWeight.size(0); }
  int64_t numSlots() const { return gate.size(0); }
  int64_t topK() const { return routing.topK; }
  int64_t hiddenSize() const { return routerWeight.size(1); }
  int64_t intermediateSize() const { return gate.size(1); }
  int64_t slotOf(int64_t expert) const { return expertSlot.empty() ? expert : expertSlot[expert]; }

  at::Tensor routerLogits(const at::Tensor& x) const;  // x [N, H] -> [N, E]
  Routing route(const at::Tensor& logits) const;
  // Expert e applied to any tokens x [M, H] -> [M, H], routed or not.
  at::Tensor applyExpert(int64_t expert, const at::Tensor& x) const;
  at::Tensor applySlot(int64_t slot, const at::Tensor& x) const;
  // The two halves of applySlot: the activated hidden [M, I] and its down projection. The down
  // projection is affine, so a mean of outputs is the projection of the mean hidden.
  at::Tensor slotHidden(int64_t slot, const at::Tensor& x) const;
  // slotHidden of `count` consecutive slots at once, [M, count, I]: one product of x with their
  // stacked gate and up weights, where many narrow experts (DeepSeek, Qwen3: I of 128-768) would
  // each be a small product far below the machine's matmul peak.
  at::Tensor slotsHidden(int64_t firstSlot, int64_t count, const at::Tensor& x) const;
  at::Tensor slotDown(int64_t slot, const at::Tensor& hidden) const;
  at::Tensor sharedOutput(const at::Tensor& x) const;  // zeros when there is no shared expert

  // Full block: routed experts weighted by the routing, plus the shared expert.
  // When `routingOut` / `logitsOut` are given they receive what the block computed.
  at::Tensor forward(const at::Tensor& x, at::Tensor* logitsOut = nullptr, Routing* routingOut = nullptr) const;
  // The routed part given a routing (used to evaluate alternative routers and merges).
  at::Tensor combine(const at::Tensor& x, const Routing& routing) const;
  // The block's output from its routed part: that plus the shared expert, if any.
  at::Tensor addShared(const at::Tensor& x, const at::Tensor& routed) const;
};

}  // namespace moe
