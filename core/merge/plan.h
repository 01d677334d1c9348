#pragma once
// A merge plan: per MoE block, which experts form each group (or which experts are kept), how the
// members are combined, and how the compact router is built; globally, the model it is valid for
// (an opaque fingerprint supplied by the caller) and the export format. The GUI and the CLI both
// read and write it as JSON. Torch-free.
//
// JSON schema (version 1):
// {
//   "moescope_merge_plan": 1,                  // required, schema version
//   "model_fingerprint": "<opaque string>",     // required, checked against the model it is applied to
//   "calibration_fingerprint": "<string>",      // optional, informational (model card)
//   "source_model": "<name or path>",           // optional, informational
//   "method": "<free text>",                    // optional, e.g. "HC-SMoE, average linkage, expert output"
//   "format": "compact" | "expert-map",         // optional, default "compact"
//   "layers": [                                 // MoE blocks not listed are left unmerged
//     {
//       "moe_index": 0,                         // required: j-th MoE block of the model
//       "layer": 0,                             // optional: its decoder layer (checked when present)
//       "num_experts": 8,                       // required: E, experts of the block
//       "num_groups": 4,                        // K: groups (merge) or kept experts (prune); 1 <= K <= E
//       "strategy": "frequency" | "average" | "dominant" | "ream" | "f-prune" | "reap" | "keep",
//       "router": "average" | "frequency" | "lse-fit" | "soft-fit" | "tied-fit",  // compact router (default "average")
//       "groups": [0, 1, 2, 2, 3, 0, 3, 1],     // merge strategies: group label of each expert, in [0, K),
//                                               // every group non-empty
//       "kept": [0, 2, 5, 7],                   // prune strategies: the K kept experts (distinct, in [0, E))
//       "usage_frequency": [ ... E numbers ],   // needed by "frequency" (strategy or router); >= 0
//       "dominant": [ ... K expert ids ],       // needed by "dominant": the member kept for each group;
//                                               // "ream": the centroid of each group
//       "align_neurons": true | false,          // optional (default: true for "ream", else false):
//                                               // permute members' neurons onto the group's reference
//                                               // before averaging (core/merge/neuron_alignment.h);
//                                               // used by frequency, average and ream, ignored otherwise
//       "scores": [ ... E numbers ]             // optional: the scores a prune list was chosen by
//     }, ...
//   ]
// }
// "keep" leaves the block unmerged (K = E). Strategies:
//   frequency: member weights averaged with weights usage_frequency / group total (the paper's
//              default; a group whose members were never used is averaged plainly);
//   average:   plain average of member weights;
//   dominant:  each group takes its dominant member's weights (the member closest to the group centre);
//   ream:      REAM: the K highest-REAP experts are the centroids ("dominant"), every other expert joins
//              its nearest centroid (expert-output distance); members averaged with usage_frequency
//              weights (neuron-aligned by default); the compact router keeps the centroids' rows
//              (router "average", the default; "frequency" is refused) unless a fitted router is asked;
//   f-prune / reap: keep the listed experts, drop the rest (compact format only).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moe {

enum class MergeStrategy { FrequencyWeighted, Average, Dominant, PruneFrequency, PruneReap, Keep, Ream };
// "frequency", "average", "dominant", "f-prune", "reap", "keep", "ream"
const char* mergeStrategyName(MergeStrategy s);
MergeStrategy parseMergeStrategy(const std::string& name);  // throws InvalidArgument listing the choices
// Every strategy, in the order parseMergeStrategy lists its choices (menus offer these).
const std::vector<MergeStrategy>& mergeStrategies();
bool isPruneStrategy(MergeStrategy s);
// Strategies that average member weights, where neuron alignment applies: frequency, average, ream.
bool averagesMembers(MergeStrategy s);

// Per expert of a block, the permutation of its intermediate neurons that aligns it with its group's
// reference: aligned neuron i = the expert's neuron perm[i]; an empty entry is the identity.
using NeuronPermutations = std::vector<std::vector<int64_t>>;

// How the compact model's router row of a group is built. From the members' rows alone: the plain
// and the usage-frequency-weighted average. Fitted on calibration inputs (core/merge/router_fit.h;
// the merge starts from the plain average and a CompactRouterHook replaces the rows):
//   lse-fit:  ridge least-squares fit of each group's logsumexp of member logits;
//   soft-fit: soft-label logistic regression, softmax over groups = summed member probabilities;
//   tied-fit: fitted layer by layer on the compact model's own inputs to reproduce the tied model's
//             routing (per-group sum of the member weights after top-k) and then its block output.
enum class RouterMode { Average, FrequencyWeighted, LseFit, SoftFit, TiedFit };
const char* routerModeName(RouterMode m);  // "average", "frequency", "lse-fit", "soft-fit", "tied-fit"
RouterMode parseRouterMode(const std::string& name);
bool isFittedRouter(RouterMode m);  // needs calibration inputs (lse-fit, soft-fit, tied-fit)

enum class ExportFormat { Compact, ExpertMap };
const char* exportFormatName(ExportFormat f);  // "compact", "expert-map"
ExportFormat parseExportFormat(const std::string& name);

struct LayerPlan {
  int moeIndex = 0;
  int layer = -1;            // decoder layer; -1: unknown (not checked)
  int64_t numExperts = 0;    // E
  int64_t numGroups = 0;     // K
  MergeStrategy strategy = MergeStrategy::FrequencyWeighted;
  RouterMode router = RouterMode::Average;
  std::vector<int64_t> labels;           // [E] merge strategies
  std::vector<int64_t> kept;             // [K] prune strategies
  std::vector<double> usageFrequency;    // [E] or empty
  std::vector<int64_t> dominant;         // [K] for Dominant
  std::vector<double> scores;            // [E] optional (prune)
  // Neuron alignment before averaging (averaging strategies only). The permutations come from
  // calibration data (alignPlanNeurons, core/merge/neuron_alignment.h), are not part of the JSON,
  // and must be attached before the plan is applied when alignNeurons is set.
  bool alignNeurons = false;
  std::shared_ptr<const NeuronPermutations> neuronPermutation;  // [E] or null
  bool needsAlignment() const { return alignNeurons && averagesMembers(strategy); }

  // Merge strategies: the labels; prune: kept[k] -> k, dropped -> -1; keep: identity.
  std::vector<int64_t> groupOf() const;
  std::vector<std::vector<int64_t>> members() const;  // per group, the member experts (ascending)
  bool isIdentity() const { return strategy == MergeStrategy::Keep; }

  // Throws InvalidArgument naming the block and the problem.
  void validate() const;
};

// Builders that fill K and validate.
LayerPlan mergeLayerPlan(int moeIndex, const std::vector<int64_t>& labels, MergeStrategy strategy,
                         const std::vector<double>& usageFrequency = {}, RouterMode router = RouterMode::Average,
                         const std::vector<int64_t>& dominant = {});
LayerPlan pruneLayerPlan(int moeIndex, int64_t numExperts, const std::vector<int64_t>& kept, MergeStrategy strategy,
                         const std::vector<double>& scores = {});
LayerPlan keepLayerPlan(int moeIndex, int64_t numExperts);

struct MergePlan {
  static constexpr int kVersion = 1;
  std::string modelFingerprint;
  std::string calibrationFingerprint;
  std::string sourceModel;
  std::string method;
  ExportFormat format = ExportFormat::Compact;
  std::vector<LayerPlan> layers;

  const LayerPlan* find(int moeIndex) const;  // nullptr: block left unmerged

  void validate() const;  // internal consistency (each layer, no duplicate moe_index)
  // Throws Stale when the fingerprint differs, InvalidArgument when a block index, decoder layer
  // or expert count does not match the model (experts[j], decoderLayers[j] of its j-th MoE block).
  void checkModel(const std::string& fingerprint, const std::vector<int64_t>& expertsPerBlock,
                  const std::vector<int>& decoderLayers = {}) const;

  nlohmann::json toJson() const;
  static MergePlan fromJson(const nlohmann::json& j, const std::string& source = "merge plan");
  void save(const std::string& path) const;  // throws Io
  static MergePlan load(const std::string& path);  // throws Io / Format / InvalidArgument

 private:
  static MergePlan parse(const nlohmann::json& j, const std::string& source);
  static MergePlan loadUnguarded(const std::string& path);
};

}  // namespace moe
