#pragma once
// Writes a merged checkpoint folder from a source model and a merge plan.
//
// compact (ExportFormat::Compact): a standard checkpoint of the source architecture with K experts
//   in every MoE block. Every source tensor is copied byte for byte except each merged block's
//   router and routed-expert tensors, which are re-emitted in the source's own names and layout
//   (per-expert tensors renumbered 0..K-1; GraniteMoE packed [K, 2I, H] / [K, H, I]; gpt-oss fused
//   [K, H, 2I] + biases; DeepSeek's e_score_correction_bias [K]) and in the source tensor's dtype.
//   config.json: the expert-count field (under the source's own spelling) = K, num_experts_per_tok
//   (ERNIE-4.5: moe_k) = min(top-k, K), and DeepSeek's n_group / topk_group = 1 when K no longer splits into n_group
//   groups. All MoE blocks must share one K (blocks the plan leaves out keep K = E).
// expert-map (ExportFormat::ExpertMap): the paper's tied model. Routers are kept; each merged block
//   stores K_j experts (any K per block) in the source layout, and config.json records
//     "moescope_expert_slots": {"<decoder layer>": K_j},
//     "moescope_expert_map":   {"<decoder layer>": [slot of each of the E router experts]}
//   which MoEScope's loader (Architecture::numSlots / expertMap) reads, plus
//     "auto_map": {"AutoModelForCausalLM": "modeling_moescope_expert_map.MoEScopeExpertMapForCausalLM"}
//   and that modeling file (expert_map_modeling.h), so transformers loads it with trust_remote_code.
//
// Writer: safetensors shards of at most shardBytes (model.safetensors, or model-0000i-of-0000n +
// model.safetensors.index.json), each streamed tensor by tensor (header first, from the planned
// sizes; tensors sorted by name like safetensors' own serializer), tokenizer*, generation_config.json, special_tokens_map.json and
// chat templates copied, a README.md model card. Everything is written into "<target>.partial-XXXXXX"
// beside the target (with a ".moescope-partial" marker: pid, host, start time) and renamed into place
// at the end. Such folders left by a killed export (marker present, process gone) are removed by the
// next export to the same target, and reported through ExportOptions::notice. The export refuses a
// target inside the source folder or an existing non-empty target, and on any failure (disk full,
// permissions, cancellation) removes the temporary folder and throws (Io with the path for
// file-system failures).
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/merge/layout.h"
#include "core/merge/merge.h"
#include "core/merge/plan.h"

namespace moe {

class Model;

struct ExportOptions {
  std::string fingerprint;                  // the source model's fingerprint; must equal the plan's
  int64_t shardBytes = 5'000'000'000;       // transformers' default max_shard_size ("5GB")
  std::string metricsMarkdown;              // measured metrics for the model card (optional)
  CompactRouterHook routerHook;             // fitted compact routers (see merge.h); compact format only
  // Source: a quantized source stays quantized (unmerged experts byte for byte, merged ones
  // re-quantized in its scheme, quantization_config kept); BF16: everything dequantized to BF16 and
  // quantization_config removed.
  ExportPrecision precision = ExportPrecision::Source;
  // Called with (bytes written, total bytes) as tensors are written: at the end of every shard and
  // whenever another 1 % of the total has been written since the last call. It may throw (e.g.
  // Cancelled) to abort, which leaves no output behind.
  std::function<void(int64_t, int64_t)> progress;
  // Checked before every tensor is produced and written (shards are streamed tensor by tensor, so
  // a single 5 GB shard stops within one tensor): when set, the export throws Cancelled and
  // removes its temporary folder.
  const std::atomic<bool>* cancel = nullptr;
  // Called with the tensor's name after its bytes are written (logs, tests).
  std::function<void(const std::string&)> tensorWritten;
  // Messages for the user: stale partial folders of killed exports removed (or kept, when their
  // process still runs).
  std::function<void(const std::string&)> notice;
};

struct ExportResult {
  std::string folder;
  std::vector<std::string> files;  // every file written, relative to folder
  int64_t tensorBytes = 0;
  int64_t numTensors = 0;
  std::vector<std::string> removedPartials;  // stale "<target>.partial-XXXXXX" folders removed first
};

// A merged block as an export in `precision` stores it, read back: expert tensors re-quantized in
// the source's scheme and decoded (experts the merge left unchanged keep their exact values, their
// bytes being copied), other tensors rounded through their stored dtype, and under Compact semantics
// the router too. `sourceBlock` is the source's block (fp32), `merged` applyLayerPlan's result.
// What the merged model computes once exported, for measuring a merge in the export's semantics.
MoeBlock storedMergedBlock(const Model& source, int moeIndex, const MoeBlock& sourceBlock, const MoeBlock& merged,
                           const LayerPlan& plan, MergeSemantics semantics,
                           ExportPrecision precision = ExportPrecision::Source);

ExportResult exportMergedModel(const Model& source, const MergePlan& plan, const std::string& target,
                               const ExportOptions& options);

}  // namespace moe
