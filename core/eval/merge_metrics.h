#pragma once
// The measured metrics of a merge, as the CLI prints them and the model card of an export states
// them: memory before and after (always), each merged block's output error on the calibration
// tokens (when calibration ids are given), and perplexity and KL(original || merged) on held-out
// text (when evaluation ids are given). The merged model is measured in the semantics of the plan's
// export format (tied for an expert map, compact otherwise), with the compact routers the export
// writes (`routerHook`).
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

#include "core/eval/evaluate.h"
#include "core/eval/generation_preview.h"
#include "core/eval/reconstruction.h"
#include "core/merge/memory.h"
#include "core/merge/merge.h"
#include "core/merge/plan.h"

namespace moe {

struct MergeMetrics {
  MergeSemantics semantics = MergeSemantics::Compact;
  MemoryPreview memory;
  std::vector<double> layerErrors;  // per MoE block, in `semantics` (0: unmerged); empty when not measured
  int64_t calibTokens = 0;
  std::optional<EvalResult> original, merged;  // merged->top1Agreement: teacher-forced agreement
  std::optional<FreeRunningAgreement> generation;  // greedy continuations of held-out prefixes
  HeldOutGenerationOptions generationOptions;
  int64_t evalSequences = 0, evalLength = 0;
};

MergeMetrics measureMerge(Model& model, const MergePlan& plan, const CompactRouterHook& routerHook,
                          const at::Tensor& calibIds, const at::Tensor& evalIds);

// Markdown for the model card's "Metrics" section.
std::string mergeMetricsMarkdown(const Model& model, const MergePlan& plan, const MergeMetrics& metrics);

}  // namespace moe
