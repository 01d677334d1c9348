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

// A GQA default that divides every head count: a quarter of the heads where that is whole.
int64_t defaultKvHeads(int64_t heads) { return heads % 4 == 0 ? heads / 4 : heads; }

// The config.json: the fields all architectures share, in transformers 5 spelling, then the
// architecture's own (its ArchitectureType::synthConfig).
json synthConfig(const SynthSpec& s) {
  const ArchitectureType& type = architectureType(s.arch.empty() ? supportedArchitectures().front() : s.arch);
  SynthDims d;
  d.layers = s.layers;
  d.hidden = s.hidden;
  d.heads = s.heads;
  d.kvHeads = s.kvHeads;
  d.experts = s.experts;
  d.expertIntermediate = s.expertIntermediate;
  d.denseIntermediate = s.denseIntermediate > 0 ? s.denseIntermediate : 4 * s.hidden;
  d.sharedIntermediate = s.sharedIntermediate;
  json c = {{"model_type", type.modelType},
            {"architectures", {type.causalLMClass}},
            {"hidden_size", s.hidden},
            {"num_hidden_layers", s.layers},
            {"num_attention_heads", s.heads},
            {"num_key_value_heads", s.kvHeads > 0 ? s.kvHeads : defaultKvHeads(s.heads)},
            {"head_dim", s.hidden / s.heads},
            {"vocab_size", s.vocab},
            {"rms_norm_eps", 1e-6},
            {"max_position_embeddings", 4096},
            {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 10000.0}}},
            {"num_experts_per_tok", s.topK},
            {"tie_word_embeddings", false},
            {"dtype", "bfloat16"},
            {"hidden_act", "silu"}};
  type.synthConfig(c, d);
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
      spec.heads <= 0 || spec.hidden % spec.heads != 0 || spec.kvHeads < 0 ||
      (spec.kvHeads > 0 && spec.heads % spec.kvHeads != 0))
    throw Error(ErrorKind::InvalidArgument,
                "synth: need layers, hidden, experts > 0, 1 <= top-k <= experts, hidden divisible by heads and "
                "heads by kv-heads (0: the architecture's default)");
  // The architecture checks the sizes before anything is written.
  const json config = synthConfig(spec);
  const ModelConfig cfg = ModelConfig::fromJson(config, outDir + "/config.json");
  auto arch = makeArchitecture(cfg);
  if (fs::exists(outDir) && !fs::is_empty(outDir))
    throw Error(ErrorKind::InvalidArgument, "synth: " + outDir + " exists and is not empty");
  fs::create_directories(outDir);
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
