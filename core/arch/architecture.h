#pragma once
// The per-architecture hooks. Each supported model_type has one source file implementing them:
//   1. hyper-parameters: the constructor reads config.json fields and decides which layers are MoE;
//   2. the tensor table: every Hugging Face tensor name of a layer with its expected shape;
//   3. the layer forward: attention, and the MLP either as a dense SwiGLU or as a MoeBlock
//      assembled from that architecture's on-disk expert layout;
//   4. export: the on-disk names of a MoE block (moeDiskNames) and the config.json rewrite of a
//      compact export (rewriteCompactConfig);
//   5. per model_type, before any config exists (ArchitectureType): the transformers CausalLM class
//      and the config.json fields of a synth checkpoint.
// A new architecture is its file, its `<name>Type()` declaration in architectures.h and one line in
// registry.cpp; no other file names a model_type.
// The engine (core/engine) streams layers through these hooks and never looks at names itself.
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/model/safetensors.h"
#include "core/model/staged_bytes.h"
#include "core/nn/functional.h"
#include "core/nn/buffer_pool.h"
#include "core/nn/kv_cache.h"
#include "core/nn/moe_block.h"
#include "core/nn/runtime.h"

namespace moe {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};

// One decoder layer's tensors in the compute dtype and device, keyed by HF name. Tensors come
// either from add() or, converted on first use, from the mapped checkpoint: a layer costs memory
// only for what its forward actually touches.
class LayerWeights {
 public:
  LayerWeights() = default;
  // `staged`: copies of some of the layer's stored tensors made ahead of use (on the runtime's
  // device), read instead of the mapping.
  LayerWeights(const TensorStore* store, const Runtime& rt, BufferPool* pool = nullptr,
               std::shared_ptr<const StagedBytes> staged = nullptr)
      : store_(store), rt_(rt), pool_(pool), staged_(std::move(staged)) {}

  void add(const std::string& name, at::Tensor t) { (*tensors_)[name] = std::move(t); }
  bool has(const std::string& name) const;
  const at::Tensor& get(const std::string& name) const;
  at::Tensor getOr(const std::string& name) const { return has(name) ? get(name) : at::Tensor(); }
  // The tensor in float32 whatever the runtime's dtype (on its device), for the few parameters the
  // reference code keeps in float32 in a bf16 model (_keep_in_fp32_modules): not rounded to bf16 on
  // the way. A copy on each call (they are small), except in an fp32 runtime.
  at::Tensor getFloat32(const std::string& name) const;
  // [n, ...] from n same-shaped tensors, each converted straight into its slice, so a block's
  // experts never exist twice (per-expert and stacked) in memory.
  at::Tensor stack(const std::vector<std::string>& names) const;
  int64_t bytes() const;
  bool hasStore() const { return store_ != nullptr; }

 private:
  const TensorStore* store_ = nullptr;
  Runtime rt_;
  BufferPool* pool_ = nullptr;
  std::shared_ptr<const StagedBytes> staged_;
  // Shared by copies, so a layer kept resident (Model::setResident) converts each tensor once.
  std::shared_ptr<std::map<std::string, at::Tensor>> tensors_ = std::make_shared<std::map<std::string, at::Tensor>>();
};

// Wraps mapped safetensors bytes as a tensor (no copy) and converts it to the runtime's dtype/device;
// from the staged copy of the bytes where `staged` holds one.
at::Tensor tensorFromInfo(const TensorInfo& info, const Runtime& rt, const StagedBytes* staged = nullptr);
at::ScalarType scalarTypeOf(DType dtype);

enum class ExpertLayout { PerExpert, Packed, Fused };
const char* expertLayoutName(ExpertLayout layout);

// The on-disk names of one MoE block's router and routed-expert tensors: what merge export re-emits
// (core/merge/layout.h). Full names, except per-expert ones: `<experts><slot>.<gate|up|down>`.
struct MoeDiskNames {
  ExpertLayout kind = ExpertLayout::PerExpert;
  std::string router, routerBias, correctionBias;          // bias names empty where there is none
  std::string experts, gate, up, down;                     // per-expert: "<p>experts.", "w1.weight", ...
  std::string inputLinear, outputLinear;                   // packed
  std::string gateUp, gateUpBias, downProj, downProjBias;  // fused; bias names empty where there is none
  // Fused orientation: gate/up columns interleaved (gpt-oss: gate 2i, up 2i+1) or concatenated
  // (gate first, then up); stored input-major for x @ W ([S, H, 2I] and [S, I, H]) or in nn.Linear
  // orientation ([S, 2I, H] and [S, H, I]).
  bool fusedInterleaved = true;
  bool fusedInputMajor = true;
  // The correction bias stored as one row [1, R] (ERNIE-4.5's moe_statics) instead of [R].
  bool correctionBiasRow = false;
};

// The sizes of a random synth checkpoint (core/engine/synth.h) that each architecture spells in its
// own config.json fields. kvHeads 0: the architecture's default.
struct SynthDims {
  int64_t layers = 0, hidden = 0, heads = 0, kvHeads = 0;
  int64_t experts = 0, expertIntermediate = 0;
  int64_t denseIntermediate = 0;   // dense layers / Mixtral-style intermediate_size (already defaulted)
  int64_t sharedIntermediate = 0;  // shared expert width; 0: none
};

class Architecture {
 public:
  explicit Architecture(const ModelConfig& config) : cfg_(config) {}
  virtual ~Architecture() = default;

  const ModelConfig& config() const { return cfg_; }
  virtual std::string name() const = 0;

  // --- hyper-parameters ---
  virtual bool isMoeLayer(int layer) const = 0;
  int64_t numExperts() const { return cfg_.numExperts; }
  int64_t topK() const { return cfg_.topK; }
  // Stored expert slots of layer's MoE block: numExperts(), or fewer in a MoEScope expert-map
  // checkpoint, whose config.json has "moescope_expert_slots" {"<layer>": K} and
  // "moescope_expert_map" {"<layer>": [slot of each router expert]} (see core/merge/export.h).
  int64_t numSlots(int layer) const;
  std::vector<int64_t> expertMap(int layer) const;  // empty: expert e uses slot e; validated
  virtual ExpertLayout expertLayout() const { return ExpertLayout::PerExpert; }
  virtual bool hasSharedExpert() const { return false; }
  // Multiplier on each residual branch (GraniteMoE's residual_multiplier).
  virtual double residualScale() const { return 1.0; }

  // --- tensor table ---
  virtual std::vector<TensorSpec> layerTensors(int layer) const = 0;
  virtual std::vector<TensorSpec> globalTensors() const;
  // Where the decoder lives on disk: "model." for most; a multimodal wrapper's text model sits
  // deeper (e.g. "model.language_model."). Layer, embedding and final-norm names derive from it.
  virtual std::string modelPrefix() const { return "model."; }
  std::string layerPrefix(int layer) const { return modelPrefix() + "layers." + std::to_string(layer) + "."; }
  virtual std::string embeddingName() const { return modelPrefix() + "embed_tokens.weight"; }
  virtual std::string finalNormName() const { return modelPrefix() + "norm.weight"; }
  // The output projection: lm_head.weight, or the embedding table when tie_word_embeddings.
  virtual std::string lmHeadName() const;
  virtual std::string inputNormName(int layer) const { return layerPrefix(layer) + "input_layernorm.weight"; }
  virtual std::string postAttentionNormName(int layer) const {
    return layerPrefix(layer) + "post_attention_layernorm.weight";
  }
  // The decoder layer a tensor name belongs to (`<modelPrefix>layers.N.`), -1 for others.
  int decoderLayerOf(const std::string& tensorName) const;
  // The on-disk prefix of layer's MoE block, e.g. "model.layers.3.block_sparse_moe.".
  virtual std::string moePrefix(int layer) const = 0;
  // The names export writes layer's MoE block under; checked against layerTensors() by MoeDiskLayout.
  virtual MoeDiskNames moeDiskNames(int layer) const = 0;

  // --- multi-token prediction (MTP) ---
  // Some checkpoints store MTP blocks after the decoder layers (DeepSeek-V3 and GLM-4.5 as
  // `model.layers.<num_hidden_layers + i>.`, Qwen3-Next as `mtp.`); transformers ignores them.
  // MoEScope validates the ones present against mtpTensors() at open, never runs them, and an
  // export that changes expert counts drops them and rewrites config.json with dropMtpFromConfig().
  virtual bool isMtpTensor(const std::string& /*name*/) const { return false; }
  virtual std::vector<TensorSpec> mtpTensors() const { return {}; }
  virtual void dropMtpFromConfig(nlohmann::json& /*cfg*/) const {}

  // --- forward ---
  // The decoder's RMSNorm (input, post-attention and final norms). Qwen3-Next scales by 1 + weight.
  virtual at::Tensor norm(const at::Tensor& x, const at::Tensor& weight) const;
  // Called once per forward with the sequence length, before any layer runs (rope tables, masks).
  virtual void prepare(int64_t seqLen, const Runtime& rt) = 0;
  virtual at::Tensor embed(const at::Tensor& ids, const at::Tensor& table) const;
  virtual at::Tensor attention(int layer, const LayerWeights& w, const at::Tensor& x) const = 0;
  virtual MoeBlock moeBlock(int layer, const LayerWeights& w) const = 0;
  virtual at::Tensor denseMlp(int layer, const LayerWeights& w, const at::Tensor& x) const;
  virtual at::Tensor logits(const at::Tensor& normedHidden, const at::Tensor& lmHead) const;

  // --- incremental decoding ---
  // Whether attention() honours the DecodeState the engine sets for a forward call (a KV cache and
  // per-row positions); generation decodes the others by recomputing the whole sequence.
  virtual bool supportsKvCache() const { return false; }
  void setDecodeState(DecodeState* state) { decode_ = state; }

  // --- compact export ---
  // Rewrites the config.json fields, beyond the expert count and num_experts_per_tok that export
  // updates for every architecture, that must change when only `keptExperts` experts remain per
  // block (e.g. group-limited routing's n_group / topk_group). Default: nothing else changes.
  virtual void rewriteCompactConfig(nlohmann::json& /*cfg*/, int64_t /*keptExperts*/) const {}

 protected:
  // Shared table fragments, so each architecture file lists only what is its own.
  void addNorms(std::vector<TensorSpec>& specs, int layer) const;
  void addDenseMlp(std::vector<TensorSpec>& specs, const std::string& prefix, int64_t intermediate) const;
  void addPerExpert(std::vector<TensorSpec>& specs, const std::string& expertsPrefix, int64_t E, int64_t I,
                    const char* gate, const char* up, const char* down) const;
  // The disk names of a per-expert block: router `routerName`, experts `<expertsPrefix><s>.<gate>.weight` ...
  static MoeDiskNames perExpertDiskNames(const std::string& routerName, const std::string& expertsPrefix,
                                         const char* gate, const char* up, const char* down);
  // The disk names of a fused block (gpt-oss, Llama-4, Qwen3.5-MoE): experts gate_up / down
  // (+ optional biases) in the orientation the flags describe; see MoeDiskNames.
  static MoeDiskNames fusedDiskNames(const std::string& routerName, const std::string& gateUp,
                                     const std::string& down, bool interleaved, bool inputMajor,
                                     const std::string& gateUpBias = "", const std::string& downBias = "");
  // Fills block.gate/up/down (+ biases) from a fused block's tensors, in MoeBlock's orientation.
  void unpackFused(MoeBlock& block, const LayerWeights& w, const MoeDiskNames& names) const;
  // Stacks per-expert tensors `<prefix><e>.<gate|up|down>.weight` into the MoeBlock layout.
  void stackPerExpert(MoeBlock& block, const LayerWeights& w, const std::string& expertsPrefix, int64_t E,
                      const char* gate, const char* up, const char* down) const;

  ModelConfig cfg_;
  DecodeState* decode_ = nullptr;  // set only during a cached forward call
};

// The factory of an ArchitectureType: `&makeArchitectureOf<Mixtral>`.
template <class A>
std::unique_ptr<Architecture> makeArchitectureOf(const ModelConfig& config) {
  return std::make_unique<A>(config);
}

// What is known of a model_type before any config is read: one per core/arch/ file (its
// `<name>Type()` in architectures.h), listed once in core/arch/registry.cpp.
struct ArchitectureType {
  std::string modelType;      // config.json model_type
  std::string causalLMClass;  // transformers' CausalLM class (base of the expert-map modeling file)
  std::unique_ptr<Architecture> (*make)(const ModelConfig& config) = nullptr;
  // Adds the architecture's own fields to a synth config.json that already holds the common ones
  // (model_type, sizes, heads, num_key_value_heads, head_dim, rope_parameters, ...); overwrites
  // those it spells differently. Throws InvalidArgument for sizes the architecture cannot take.
  void (*synthConfig)(nlohmann::json& cfg, const SynthDims& dims) = nullptr;
};

// The registered type of `modelType`; unknown types get an Unsupported error listing the supported ones.
const ArchitectureType& architectureType(const std::string& modelType);

// Checks, for every architecture alike, that a model with MoE layers has E >= 1 experts and a top-k
// (num_experts_per_tok) in [1, E]: a missing top-k would silently zero every MoE output. Throws Config.
void validateRouting(const Architecture& arch);

// Creates the architecture for config.model_type (routing validated as above); unknown types get an
// error listing the supported ones.
std::unique_ptr<Architecture> makeArchitecture(const ModelConfig& config);
std::vector<std::string> supportedArchitectures();

}  // namespace moe
