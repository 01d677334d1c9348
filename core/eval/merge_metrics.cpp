#include "core/eval/merge_metrics.h"

#include <cstdio>
#include <sstream>

#include "core/engine/model.h"

namespace moe {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string gigabytes(int64_t bytes) { return fixed(static_cast<double>(bytes) / 1e9, 3) + " GB"; }

}  // namespace

MergeMetrics measureMerge(Model& model, const MergePlan& plan, const CompactRouterHook& routerHook,
                          const at::Tensor& calibIds, const at::Tensor& evalIds) {
  MergeMetrics m;
  m.semantics = plan.format == ExportFormat::ExpertMap ? MergeSemantics::Tied : MergeSemantics::Compact;
  m.memory = previewMemory(model, plan);
  if (calibIds.defined() && calibIds.numel() > 0) {
    ReconstructionOptions ro;
    ro.maxTokens = calibIds.numel();  // every calibration token
    const ReconstructionCache cache = ReconstructionCache::build(model, calibIds, ro);
    m.layerErrors = reconstructionErrors(cache, model, plan, m.semantics, routerHook);
    m.calibTokens = cache.tokens();
  }
  if (evalIds.defined() && evalIds.numel() > 0) {
    m.evalSequences = evalIds.size(0);
    m.evalLength = evalIds.size(1);
    const at::Tensor reference = finalHidden(model, evalIds);
    m.original = scoreHidden(model, reference, evalIds);
    ForwardOptions fo;
    fo.moeOverride = planOverride(plan, m.semantics, routerHook);
    m.merged = evaluate(model, evalIds, fo, reference);
    std::vector<std::vector<int64_t>> originalTokens;
    m.generation = heldOutGenerationAgreement(model, evalIds, fo.moeOverride, m.generationOptions, originalTokens);
  }
  return m;
}

std::string mergeMetricsMarkdown(const Model& model, const MergePlan& plan, const MergeMetrics& m) {
  std::ostringstream s;
  const MemoryPreview& mem = m.memory;
  s << "| | parameters | bytes (stored dtype) |\n|---|---|---|\n"
    << "| source | " << mem.paramsBefore << " | " << gigabytes(mem.bytesBefore) << " |\n"
    << "| this export | " << mem.paramsAfter << " | " << gigabytes(mem.bytesAfter) << " ("
    << fixed(100.0 * (1.0 - static_cast<double>(mem.bytesAfter) / static_cast<double>(mem.bytesBefore)), 1)
    << " % smaller) |\n";
  if (m.original && m.merged) {
    s << "\nHeld-out text: " << m.evalSequences << " sequences of " << m.evalLength << " tokens ("
      << m.merged->predicted << " predicted tokens).\n\n| model | perplexity | mean KL(source \\|\\| model) |\n"
      << "|---|---|---|\n| source | " << fixed(m.original->perplexity, 2) << " | - |\n"
      << "| this export | " << fixed(m.merged->perplexity, 2) << " | " << fixed(m.merged->meanKl, 4) << " |\n";
    s << "\nGeneration agreement with the source: teacher-forced top-1 agreement "
      << fixed(100.0 * m.merged->top1Agreement, 1) << " % of next-token predictions";
    if (m.generation)
      s << "; free-running (greedy, " << m.generationOptions.newTokens << " new tokens after the first "
        << m.generationOptions.prefix << " tokens of " << m.generation->prompts << " held-out sequences): mean identical "
        << "prefix " << fixed(m.generation->meanIdenticalPrefix, 1) << " tokens, token ROUGE-L "
        << fixed(m.generation->meanRougeL, 3);
    s << ".\n";
  }
  if (!m.layerErrors.empty()) {
    const bool tied = m.semantics == MergeSemantics::Tied;
    s << "\nOutput error of each merged MoE block on " << m.calibTokens
      << " calibration tokens, ||merged(x) - original(x)|| / ||original(x)||, as this export computes it ("
      << (tied ? "router kept, experts mapped to their group" : "one router row per group") << "):\n\n"
      << "| MoE block | decoder layer | output error |\n|---|---|---|\n";
    for (size_t j = 0; j < m.layerErrors.size(); ++j) {
      const LayerPlan* lp = plan.find(static_cast<int>(j));
      s << "| " << j << " | " << model.moeLayers()[j] << " | "
        << (lp && !lp->isIdentity() ? fixed(m.layerErrors[j], 4) : std::string("unmerged")) << " |\n";
    }
  }
  return s.str();
}

}  // namespace moe
