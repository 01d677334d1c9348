#include "core/engine/synth.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/arch/architecture.h"
#include "core/error.h"
#include "core/model/safetensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace moe {
namespace {

// The config.json fields each architecture reads, in transformers 5 spelling.
json synthConfig(const SynthSpec& s) {
  const int64_t dense = s.denseIntermediate > 0 ? s.denseIntermediate : 4 * s.hidden;
  json c = {{"model_type", s.arch},
            {"hidden_size", s.hidden},
            {"num_hidden_layers", s.layers},
            {"num_attention_heads", s.heads},
            {"num_key_value_heads", s.kvHeads},
            {"head_dim", s.hidden / s.heads},
            {"vocab_size", s.vocab},
            {"rms_norm_eps", 1e-6},
            {"max_position_embeddings", 4096},
            {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 10000.0}}},
            {"num_experts_per_tok", s.topK},
            {"tie_word_embeddings", false},
            {"dtype", "bfloat16"},
            {"hidden_act", "silu"}};
  if (s.arch == "mixtral") {
    c["architectures"] = {"MixtralForCausalLM"};
    c["num_local_experts"] = s.experts;
    c["intermediate_size"] = s.expertIntermediate;
  } else if (s.arch == "qwen2_moe") {
    c["architectures"] = {"Qwen2MoeForCausalLM"};
    c["num_experts"] = s.experts;
    c["moe_intermediate_size"] = s.expertIntermediate;
    c["intermediate_size"] = dense;
    c["shared_expert_intermediate_size"] = s.sharedIntermediate;
    c["qkv_bias"] = true;
    c["norm_topk_prob"] = false;
    c["decoder_sparse_step"] = 1;
    c["mlp_only_layers"] = json::array();
  } else if (s.arch == "qwen3_moe") {
    c["architectures"] = {"Qwen3MoeForCausalLM"};
    c["num_experts"] = s.experts;
    c["moe_intermediate_size"] = s.expertIntermediate;
    c["intermediate_size"] = dense;
    c["norm_topk_prob"] = true;
    c["decoder_sparse_step"] = 1;
    c["mlp_only_layers"] = json::array();
  } else if (s.arch == "olmoe") {
    c["architectures"] = {"OlmoeForCausalLM"};
    c["num_experts"] = s.experts;
    c["intermediate_size"] = s.expertIntermediate;
    c["norm_topk_prob"] = false;
  } else if (s.arch == "granitemoe") {
    c["architectures"] = {"GraniteMoeForCausalLM"};
    c["num_local_experts"] = s.experts;
    c["intermediate_size"] = s.expertIntermediate;
    c["embedding_multiplier"] = 12.0;
    c["attention_multiplier"] = 1.0 / static_cast<double>(s.hidden / s.heads);
    c["residual_multiplier"] = 0.22;
    c["logits_scaling"] = 8.0;
  } else if (s.arch == "gpt_oss") {
    c["architectures"] = {"GptOssForCausalLM"};
    c["num_local_experts"] = s.experts;
    c["intermediate_size"] = s.expertIntermediate;
    c["attention_bias"] = true;
    c["sliding_window"] = 128;
    json types = json::array();
    for (int64_t l = 0; l < s.layers; ++l) types.push_back(l % 2 == 0 ? "sliding_attention" : "full_attention");
    c["layer_types"] = types;
    c["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 150000.0}, {"factor", 32.0},
                            {"beta_fast", 32.0}, {"beta_slow", 1.0}, {"original_max_position_embeddings", 4096},
                            {"truncate", false}};
  } else if (s.arch == "deepseek_v3") {
    c["architectures"] = {"DeepseekV3ForCausalLM"};
    c["n_routed_experts"] = s.experts;
    c["moe_intermediate_size"] = s.expertIntermediate;
    c["intermediate_size"] = dense;
    c["n_shared_experts"] = s.sharedIntermediate > 0 ? 1 : 0;
    c["first_k_dense_replace"] = s.layers > 1 ? 1 : 0;
    const int64_t groups = s.experts % 4 == 0 ? 4 : 1;
    c["n_group"] = groups;
    c["topk_group"] = groups > 1 ? 2 : 1;
    c["norm_topk_prob"] = true;
    c["routed_scaling_factor"] = 2.5;
    c["q_lora_rank"] = s.hidden / 2;
    c["kv_lora_rank"] = s.hidden / 4;
    c["qk_nope_head_dim"] = 2 * (s.hidden / s.heads) / 3 / 2 * 2;
    c["qk_rope_head_dim"] = std::max<int64_t>(2, (s.hidden / s.heads) / 3 / 2 * 2);
    c["v_head_dim"] = s.hidden / s.heads;
    c["head_dim"] = c["qk_rope_head_dim"];
    c["rope_interleave"] = true;
    c["attention_bias"] = false;
  } else {
    throw Error(ErrorKind::Unsupported, "synth: unknown architecture '" + s.arch + "'");
  }
  return c;
}

TensorBlob randomTensor(const TensorSpec& spec, at::Generator& gen) {
  TensorBlob blob;
  blob.name = spec.name;
  blob.dtype = DType::BF16;
  blob.shape = spec.shape;
  at::Tensor t;
  const std::string& n = spec.name;
  const bool isNorm = n.find("norm") != std::string::npos;
  const bool isZero = n.find("e_score_correction_bias") != std::string::npos;
  if (isNorm) t = at::ones(spec.shape, at::kFloat);
  else if (isZero) t = at::zeros(spec.shape, at::kFloat);
  else t = at::normal(0.0, 0.02, spec.shape, gen);
  t = t.to(at::kBFloat16).contiguous();
  blob.bytes.resize(static_cast<size_t>(t.numel()) * 2);
  std::memcpy(blob.bytes.data(), t.data_ptr(), blob.bytes.size());
  return blob;
}

}  // namespace

void writeSyntheticModel(const SynthSpec& spec, const std::string& outDir,
                         const std::function<void(int64_t, int64_t)>& progress) {
  if (spec.layers <= 0 || spec.hidden <= 0 || spec.experts <= 0 || spec.topK <= 0 || spec.topK > spec.experts ||
      spec.heads <= 0 || spec.hidden % spec.heads != 0 || spec.kvHeads <= 0 || spec.heads % spec.kvHeads != 0)
    throw Error(ErrorKind::InvalidArgument,
                "synth: need layers, hidden, experts > 0, 1 <= top-k <= experts, hidden divisible by heads and "
                "heads by kv-heads");
  if (fs::exists(outDir) && !fs::is_empty(outDir))
    throw Error(ErrorKind::InvalidArgument, "synth: " + outDir + " exists and is not empty");
  fs::create_directories(outDir);
  const json config = synthConfig(spec);
  const ModelConfig cfg = ModelConfig::fromJson(config, outDir + "/config.json");
  auto arch = makeArchitecture(cfg);
  std::vector<TensorSpec> specs = arch->globalTensors();
  for (int l = 0; l < spec.layers; ++l) {
    auto layer = arch->layerTensors(l);
    specs.insert(specs.end(), layer.begin(), layer.end());
  }
  int64_t total = 0;
  for (auto& s : specs) {
    int64_t n = 2;
    for (int64_t d : s.shape) n *= d;
    total += n;
  }
  at::Generator gen = at::detail::createCPUGenerator(spec.seed);
  // Tensors are generated and written one shard at a time so memory stays at one shard.
  std::vector<std::vector<TensorSpec>> shards(1);
  int64_t inShard = 0;
  for (auto& s : specs) {
    int64_t n = 2;
    for (int64_t d : s.shape) n *= d;
    if (inShard > 0 && inShard + n > spec.shardBytes) {
      shards.emplace_back();
      inShard = 0;
    }
    shards.back().push_back(s);
    inShard += n;
  }
  json weightMap = json::object();
  int64_t written = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    const std::string file = shards.size() == 1 ? "model.safetensors" : name;
    std::vector<TensorBlob> blobs;
    for (auto& s : shards[i]) {
      blobs.push_back(randomTensor(s, gen));
      weightMap[s.name] = file;
    }
    std::vector<const TensorBlob*> ptrs;
    for (auto& b : blobs) {
      ptrs.push_back(&b);
      written += static_cast<int64_t>(b.bytes.size());
    }
    writeSafetensors((fs::path(outDir) / file).string(), ptrs);
    if (progress) progress(written, total);
  }
  if (shards.size() > 1) {
    std::ofstream idx(fs::path(outDir) / "model.safetensors.index.json");
    idx << json{{"metadata", {{"total_size", total}}}, {"weight_map", weightMap}}.dump(2);
  }
  std::ofstream(fs::path(outDir) / "config.json") << config.dump(2);
  std::ofstream(fs::path(outDir) / "generation_config.json") << json{{"_from_model_config", true}}.dump(2);
}

}  // namespace moe
