#include "core/engine/synth.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "core/arch/architecture.h"
#include "core/error.h"
#include "core/model/quant.h"
#include "core/model/quant_codec.h"
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
  // The name outlives the call (gcc 14 warns of a dangling reference when it is a temporary).
  const std::string arch = s.arch.empty() ? supportedArchitectures().front() : s.arch;
  const ArchitectureType& type = architectureType(arch);
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

enum class Encoding { Plain, Fp8, Mxfp4 };

TensorBlob blobOf(const std::string& name, const at::Tensor& t, DType dtype) {
  TensorBlob blob;
  blob.name = name;
  blob.dtype = dtype;
  const at::Tensor c = t.contiguous();
  blob.shape = c.sizes().vec();
  blob.bytes.resize(static_cast<size_t>(c.numel()) * c.element_size());
  if (!blob.bytes.empty()) std::memcpy(blob.bytes.data(), c.data_ptr(), blob.bytes.size());
  return blob;
}

// The tensor's blobs: BF16, or its codes and scales.
std::vector<TensorBlob> randomTensor(const TensorSpec& spec, Encoding enc, const SynthSpec& s, at::Generator& gen) {
  at::Tensor t;
  const std::string& n = spec.name;
  const bool isNorm = n.find("norm") != std::string::npos;
  const bool isZero = n.find("e_score_correction_bias") != std::string::npos;
  if (isNorm) t = at::ones(spec.shape, at::kFloat);
  else if (isZero) t = at::zeros(spec.shape, at::kFloat);
  else t = at::normal(0.0, 0.02, spec.shape, gen);
  if (enc == Encoding::Fp8) {
    const Fp8Tensor q = quantizeFp8(t, DType::F8_E4M3, s.fp8BlockRows, s.fp8BlockCols);
    return {blobOf(n, q.codes, DType::F8_E4M3), blobOf(fp8ScaleName(n), q.scaleInv, DType::F32)};
  }
  if (enc == Encoding::Mxfp4) {
    const Mxfp4Tensor q = quantizeMxfp4(t);
    return {blobOf(mxfp4BlocksName(n), q.blocks, DType::U8), blobOf(mxfp4ScalesName(n), q.scales, DType::U8)};
  }
  return {blobOf(n, t.to(at::kBFloat16), DType::BF16)};
}

int64_t numelOf(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t storedBytes(const TensorSpec& t, Encoding enc, const SynthSpec& s) {
  const int64_t n = numelOf(t.shape);
  if (enc == Encoding::Fp8) return n + 4 * numelOf(fp8ScaleShape(t.shape, s.fp8BlockRows, s.fp8BlockCols));
  if (enc == Encoding::Mxfp4) return n / 2 + n / kMxfp4Block;
  return 2 * n;
}

// "model.layers.7.self_attn.q_proj" -> "model.layers.*.self_attn.q_proj": one entry for all layers.
std::string modulePattern(const std::string& tensorName) {
  std::string m = tensorName.substr(0, tensorName.rfind('.'));
  const size_t at = m.find("layers.");
  if (at == std::string::npos) return m;
  size_t end = at + 7;
  while (end < m.size() && m[end] >= '0' && m[end] <= '9') ++end;
  return end > at + 7 ? m.substr(0, at + 7) + "*" + m.substr(end) : m;
}

// How each tensor is stored, like the published quantized checkpoints, and config.json's
// quantization_config (modules_to_not_convert: every module with an unquantized weight matrix).
std::map<std::string, Encoding> chooseEncodings(const Architecture& arch, const SynthSpec& s,
                                                const std::vector<TensorSpec>& specs, json& config) {
  std::map<std::string, Encoding> enc;
  for (const auto& t : specs) enc[t.name] = Encoding::Plain;
  if (s.quant.empty()) return enc;
  std::set<std::string> keep{arch.embeddingName(), arch.lmHeadName()}, mxfp4;
  for (int l = 0; l < arch.config().numLayers; ++l) {
    if (!arch.isMoeLayer(l)) continue;
    const MoeDiskNames n = arch.moeDiskNames(l);
    for (const auto& r : {n.router, n.routerBias, n.correctionBias}) keep.insert(r);
    if (n.kind == ExpertLayout::Fused && n.fusedInputMajor) mxfp4.insert({n.gateUp, n.downProj});
  }
  std::vector<std::string> unconverted, quantized;  // tensor names
  for (const auto& t : specs) {
    const std::string module = t.name.substr(0, t.name.rfind('.'));
    const std::string last = module.substr(module.rfind('.') + 1);
    const bool matrix = t.shape.size() >= 2 && t.name.size() >= 4 && t.name.compare(t.name.size() - 4, 4, "bias") != 0;
    const bool gate = last == "gate" || (last.size() > 5 && last.compare(last.size() - 5, 5, "_gate") == 0);
    if (s.quant == "fp8" && matrix && !keep.count(t.name) && !gate) enc[t.name] = Encoding::Fp8;
    else if (s.quant == "mxfp4" && mxfp4.count(t.name)) enc[t.name] = Encoding::Mxfp4;
    if (enc[t.name] != Encoding::Plain) quantized.push_back(t.name);
    else if (matrix) unconverted.push_back(t.name);
  }
  // transformers matches these names as prefixes of module names ("model.layers.1.mlp.gate" also
  // matches "...mlp.gate_proj"): an entry is the all-layers pattern, or the module itself where the
  // pattern would also cover a quantized tensor, or left out where even that would.
  auto covers = [&](const std::string& pattern) {
    QuantConfig probe;
    probe.modulesToNotConvert = {pattern};
    for (const auto& q : quantized)
      if (probe.keepsUnquantized(q)) return true;
    return false;
  };
  std::set<std::string> notConverted, tried;
  for (const auto& name : unconverted) {
    const std::string module = name.substr(0, name.rfind('.')), pattern = modulePattern(name);
    if (tried.insert(pattern).second && !covers(pattern)) notConverted.insert(pattern);
    if (notConverted.count(pattern)) continue;
    if (!covers(module)) notConverted.insert(module);
  }
  if (s.quant == "mxfp4" && mxfp4.empty())
    throw Error(ErrorKind::InvalidArgument, "synth --quant mxfp4: " + arch.name() +
                                                " has no fused input-major expert tensors, the only ones MXFP4 "
                                                "checkpoints (gpt-oss) quantize");
  json q = {{"quant_method", s.quant}, {"modules_to_not_convert", notConverted}};
  if (s.quant == "fp8") {
    q["fmt"] = "e4m3";
    q["activation_scheme"] = "dynamic";
    q["weight_block_size"] = {s.fp8BlockRows, s.fp8BlockCols};
  }
  config["quantization_config"] = q;
  return enc;
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
  const json configIn = synthConfig(spec);
  const ModelConfig cfg = ModelConfig::fromJson(configIn, outDir + "/config.json");
  auto arch = makeArchitecture(cfg);
  if (!spec.quant.empty() && spec.quant != "fp8" && spec.quant != "mxfp4")
    throw Error(ErrorKind::InvalidArgument, "synth: quantization '" + spec.quant + "' is not one of fp8, mxfp4");
  if (spec.fp8BlockRows <= 0 || spec.fp8BlockCols <= 0)
    throw Error(ErrorKind::InvalidArgument, "synth: the FP8 block size must be positive");
  std::vector<TensorSpec> specs = arch->globalTensors();
  for (int l = 0; l < spec.layers; ++l) {
    auto layer = arch->layerTensors(l);
    specs.insert(specs.end(), layer.begin(), layer.end());
  }
  json config = configIn;
  const std::map<std::string, Encoding> enc = chooseEncodings(*arch, spec, specs, config);
  for (const auto& [name, e] : enc)
    for (const auto& t : specs)
      if (t.name == name && e == Encoding::Mxfp4 && (t.shape.size() != 3 || t.shape[1] % kMxfp4Block != 0))
        throw Error(ErrorKind::InvalidArgument, "synth --quant mxfp4: '" + name + "' " + shapeString(t.shape) +
                                                    " needs its input dimension divisible by 32 (hidden and expert "
                                                    "intermediate sizes multiples of 32)");
  if (fs::exists(outDir) && !fs::is_empty(outDir))
    throw Error(ErrorKind::InvalidArgument, "synth: " + outDir + " exists and is not empty");
  fs::create_directories(outDir);
  int64_t total = 0;
  for (auto& s : specs) total += storedBytes(s, enc.at(s.name), spec);
  at::Generator gen = at::detail::createCPUGenerator(spec.seed);
  // Tensors are generated and written one shard at a time so memory stays at one shard.
  std::vector<std::vector<TensorSpec>> shards(1);
  int64_t inShard = 0;
  for (auto& s : specs) {
    const int64_t n = storedBytes(s, enc.at(s.name), spec);
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
      for (auto& b : randomTensor(s, enc.at(s.name), spec, gen)) {
        weightMap[b.name] = file;
        blobs.push_back(std::move(b));
      }
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
