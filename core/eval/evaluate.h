#pragma once
// End-to-end quality of a model, or of a merged variant of it: perplexity of next-token prediction
// on held-out text, and the mean KL divergence KL(original || variant) of the next-token
// distributions. Both come from final hidden states, so the [tokens, vocab] logits are only ever
// materialised one sequence at a time.
#include <ATen/ATen.h>

#include <atomic>
#include <functional>

#include "core/engine/model.h"

namespace moe {

// Final hidden states (after the last norm) [B, T, H] of a forward pass, optionally with MoE
// blocks replaced (ForwardOptions::moeOverride).
at::Tensor finalHidden(Model& model, const at::Tensor& ids, const ForwardOptions& options = {},
                       ForwardObserver* observer = nullptr);

struct EvalResult {
  double perplexity = 0;
  double meanNll = 0;        // nats per predicted token
  int64_t predicted = 0;     // tokens predicted: positions 1..T-1 of every sequence
  double meanKl = -1;        // KL(reference || this), nats per predicted token; -1 when no reference
  // Teacher-forced top-1 agreement: the fraction of predicted positions where this model's most
  // probable next token is the reference's (ties: the lowest id); -1 when no reference.
  double top1Agreement = -1;
  double seconds = 0;
};

// Scores `hidden` [B, T, H] against `ids` [B, T]: the next-token NLL over positions 1..T-1 of every
// sequence, and, when `referenceHidden` is defined, the KL from the reference's distributions.
EvalResult scoreHidden(const Model& model, const at::Tensor& hidden, const at::Tensor& ids,
                       const at::Tensor& referenceHidden = at::Tensor());

// finalHidden + scoreHidden.
EvalResult evaluate(Model& model, const at::Tensor& ids, const ForwardOptions& options = {},
                    const at::Tensor& referenceHidden = at::Tensor(), ForwardObserver* observer = nullptr);

}  // namespace moe
