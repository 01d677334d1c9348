// Llama-4 (Scout, Maverick) text model, in both of the forms transformers saves it:
//   * model_type "llama4" (Llama4ForConditionalGeneration, what the released checkpoints are): the
//     language model's fields sit in config.json's text_config (ModelConfig reads them there) and its
//     tensors under `language_model.model.` with the head at `language_model.lm_head.weight`; the
//     vision tower and projector (`vision_model.`, `multi_modal_projector.`) are not run, and exports
//     copy them unchanged;
//   * model_type "llama4_text" (Llama4ForCausalLM): flat config, `model.` and `lm_head.weight`.
// Per decoder layer:
//   * attention: q/k/v/o under `self_attn.` (biases when attention_bias). no_rope_layers[l] = 1
//     layers apply rope in its complex form (pairs (2i, 2i+1) rotated by frequency i), then, when
//     use_qk_norm, a weightless RMS norm of each q/k head, and attend within chunks of
//     attention_chunk_size positions; the others (NoPE) skip rope and attend causally over the whole
//     sequence, and with attn_temperature_tuning scale q at position p by
//     1 + attn_scale * log(1 + floor((p + 1) / floor_scale)). layer_types overrides the mask choice.
//   * feed_forward: MoE layers (moe_layers, else every interleave_moe_layer_step-th) hold a router
//     `router.weight` [E, H], fused experts `experts.gate_up_proj` [E, H, 2I] (gate columns first,
//     then up, stored for x @ W) and `experts.down_proj` [E, I, H], and a shared SwiGLU
//     `shared_expert.` of width intermediate_size that is always added. Routing: top-k of the logits,
//     each chosen expert's weight sigmoid(logit), and that weight multiplies the expert's INPUT.
//     Other layers have a dense SwiGLU `feed_forward.{gate,up,down}_proj` of width intermediate_size_mlp.
#include <cmath>
#include <set>

#include "core/arch/architectures.h"
#include "core/arch/standard_attention.h"  // addStandardAttention: the q/k/v/o table entries
#include "core/error.h"

namespace moe {
namespace {

using nlohmann::json;

class Llama4 : public Architecture {
 public:
  explicit Llama4(const ModelConfig& c) : Architecture(c), wrapped_(!c.textConfigKey.empty()) {
    const std::string& src = c.source();
    // A wrapper without text_config would get transformers' default (Scout-sized) text model.
    if (c.modelType == llama4Type().modelType && !wrapped_)
      throw Error(ErrorKind::Config, src + ": model_type 'llama4' needs the language model's fields in text_config "
                                           "(a flat config is model_type 'llama4_text')");
    const int64_t L = c.numLayers;
    attn_.qkvBias = c.getBool("attention_bias", false);
    attn_.outputBias = attn_.qkvBias;
    qkNorm_ = c.getBool("use_qk_norm", true);
    temperatureTuning_ = truthy("attn_temperature_tuning", true);
    floorScale_ = c.getNumber("floor_scale", 8192.0);
    attnScale_ = c.getNumber("attn_scale", 0.1);
    if (temperatureTuning_ && !(floorScale_ > 0))
      throw Error(ErrorKind::Config, src + ": floor_scale must be positive, got " + std::to_string(floorScale_));
    chunk_ = c.getInt("attention_chunk_size", 8192);
    mlpWidth_ = c.getInt("intermediate_size_mlp", 16384);
    if (cfg_.headDim % 2 != 0)
      throw Error(ErrorKind::Config, src + ": head_dim must be even for rope, got " + std::to_string(cfg_.headDim));

    // Rope layers: no_rope_layers (1 = rope), at least one entry per layer; when absent or empty,
    // every no_rope_layer_interval-th layer is NoPE (transformers' default).
    std::vector<int64_t> rope = c.getIntList("no_rope_layers");
    if (rope.empty()) {
      const int64_t interval = c.getInt("no_rope_layer_interval", 4);
      if (interval <= 0) throw Error(ErrorKind::Config, src + ": no_rope_layer_interval must be positive");
      for (int64_t l = 0; l < L; ++l) rope.push_back((l + 1) % interval != 0 ? 1 : 0);
    }
    if (static_cast<int64_t>(rope.size()) < L)
      throw Error(ErrorKind::Config, src + ": no_rope_layers has " + std::to_string(rope.size()) + " entries for " +
                                         std::to_string(L) + " layers");
    for (int64_t l = 0; l < L; ++l) useRope_.push_back(rope[static_cast<size_t>(l)] != 0);

    // Chunked attention: layer_types when given, else the rope layers (transformers' default).
    const std::vector<std::string> types = c.getStringList("layer_types");
    if (!types.empty() && static_cast<int64_t>(types.size()) != L)
      throw Error(ErrorKind::Config, src + ": layer_types has " + std::to_string(types.size()) + " entries for " +
                                         std::to_string(L) + " layers");
    for (int64_t l = 0; l < L; ++l) {
      const size_t i = static_cast<size_t>(l);
      const bool chunked = types.empty() ? useRope_[i] : types[i] == "chunked_attention";
      if (!types.empty() && !chunked && types[i] != "full_attention")
        throw Error(ErrorKind::Config, src + ": layer_types[" + std::to_string(l) + "] is '" + types[i] +
                                           "', expected chunked_attention or full_attention");
      if (chunked && chunk_ <= 0)
        throw Error(ErrorKind::Config, src + ": layer " + std::to_string(l) +
                                           " uses chunked attention, but attention_chunk_size is not positive");
      chunked_.push_back(chunked);
    }

    // MoE layers: moe_layers when given, else every interleave_moe_layer_step-th layer.
    if (c.has("moe_layers")) {
      for (int64_t l : c.getIntList("moe_layers")) {
        if (l < 0 || l >= L)
          throw Error(ErrorKind::Config, src + ": moe_layers names layer " + std::to_string(l) + ", the model has " +
                                             std::to_string(L));
        moeLayers_.insert(static_cast<int>(l));
      }
    } else {
      const int64_t step = c.getInt("interleave_moe_layer_step", 1);
      if (step <= 0) throw Error(ErrorKind::Config, src + ": interleave_moe_layer_step must be positive");
      for (int64_t l = step - 1; l < L; l += step) moeLayers_.insert(static_cast<int>(l));
    }
  }

  std::string name() const override { return wrapped_ ? llama4Type().modelType : llama4TextType().modelType; }
  bool isMoeLayer(int layer) const override { return moeLayers_.count(layer) > 0; }
  ExpertLayout expertLayout() const override { return ExpertLayout::Fused; }
  bool hasSharedExpert() const override { return true; }

  std::string modelPrefix() const override { return wrapped_ ? "language_model.model." : "model."; }
  std::string lmHeadName() const override {
    if (cfg_.tieWordEmbeddings) return embeddingName();
    return wrapped_ ? "language_model.lm_head.weight" : "lm_head.weight";
  }
  std::string moePrefix(int layer) const override { return layerPrefix(layer) + "feed_forward."; }

  std::vector<TensorSpec> layerTensors(int layer) const override {
    std::vector<TensorSpec> s;
    addNorms(s, layer);
    addStandardAttention(s, cfg_, layerPrefix(layer) + "self_attn.", attn_);
    const std::string p = moePrefix(layer);
    if (!isMoeLayer(layer)) {
      addDenseMlp(s, p, mlpWidth_);
      return s;
    }
    const int64_t E = numExperts(), S = numSlots(layer), H = cfg_.hiddenSize, I = cfg_.intermediateSize;
    s.push_back({p + "router.weight", {E, H}});
    s.push_back({p + "experts.gate_up_proj", {S, H, 2 * I}});
    s.push_back({p + "experts.down_proj", {S, I, H}});
    addDenseMlp(s, p + "shared_expert.", I);
    return s;
  }

  MoeDiskNames moeDiskNames(int layer) const override {
    const std::string p = moePrefix(layer);
    return fusedDiskNames(p + "router.weight", p + "experts.gate_up_proj", p + "experts.down_proj",
                          /*interleaved=*/false, /*inputMajor=*/true);
  }

  // With a KV cache (generation): the rotary rows, the NoPE query scale and the chunks follow each
  // row's own positions (DecodeState::positions, left padding excluded), so that a prompt decoded in
  // a padded batch continues as it does alone, as the reference generations were made.
  bool supportsKvCache() const override { return true; }

  void prepare(int64_t seqLen, const Runtime& rt) override {
    rope_ = makeRopeTable(cfg_.rope, cfg_.headDim, cfg_.getInt("max_position_embeddings", seqLen), seqLen, rt);
    tempScale_ = temperatureScale(at::arange(seqLen, at::kFloat)).to(rt.device).view({1, 1, -1, 1});
  }

  at::Tensor attention(int layer, const LayerWeights& w, const at::Tensor& x) const override {
    const std::string p = layerPrefix(layer) + "self_attn.";
    const int64_t B = x.size(0), T = x.size(1), D = cfg_.headDim;
    const bool rope = useRope_[static_cast<size_t>(layer)];
    const RopeTable table = decode_ ? ropeRows(rope_, decode_->positions) : rope_;
    at::Tensor q = dense(x, w.get(p + "q_proj.weight"), w.getOr(p + "q_proj.bias")).view({B, T, -1, D}).transpose(1, 2);
    at::Tensor k = dense(x, w.get(p + "k_proj.weight"), w.getOr(p + "k_proj.bias")).view({B, T, -1, D}).transpose(1, 2);
    at::Tensor v = dense(x, w.get(p + "v_proj.weight"), w.getOr(p + "v_proj.bias")).view({B, T, -1, D}).transpose(1, 2);
    if (rope) {
      // The complex rotation of pairs (2i, 2i+1) equals rotate_half on the de-interleaved head; the
      // head's dims stay permuted, which neither the RMS norm nor q . k can see.
      q = applyRopeInterleaved(q, table);
      k = applyRopeInterleaved(k, table);
      if (qkNorm_) {
        q = unitRms(q);
        k = unitRms(k);
      }
    } else if (temperatureTuning_) {
      const at::Tensor scale = decode_ ? temperatureScale(decode_->positions.to(at::kFloat)).view({B, 1, T, 1})
                                       : tempScale_.narrow(2, 0, T);
      q = (q.to(at::kFloat) * scale).to(q.scalar_type());
    }
    AttentionOptions opts;
    opts.scaling = 1.0 / std::sqrt(static_cast<double>(D));
    const bool chunked = chunked_[static_cast<size_t>(layer)];
    if (decode_) {
      decode_->attend(layer, k, v, opts);
      if (chunked) opts.keyMask = sameChunkMask(*decode_, opts.keyMask);
    } else if (chunked) {
      opts.chunkSize = chunk_;
    }
    at::Tensor out = moe::attention(q, k, v, opts);
    return dense(out, w.get(p + "o_proj.weight"), w.getOr(p + "o_proj.bias"));
  }

  // Query scale of the NoPE layers at positions p (float), in fp32 as transformers computes it.
  at::Tensor temperatureScale(const at::Tensor& p) const {
    return at::log1p(at::floor((p + 1.0) / floorScale_)) * attnScale_ + 1.0;
  }

  // The keys a cached call's queries may see in a chunked layer [B, T, past + T]: those in the
  // query's chunk of its row's positions, and allowed by `padding` (DecodeState::keyMask, undefined
  // without padding). Causality stays the attention's (key index <= query index, the order of
  // positions).
  at::Tensor sameChunkMask(const DecodeState& d, const at::Tensor& padding) const {
    const int64_t T = d.positions.size(1), Tk = d.past + T, B = d.positions.size(0);
    const auto longs = at::TensorOptions().dtype(at::kLong).device(d.positions.device());
    const at::Tensor keyPos = d.keyValid.defined()
                                  ? (d.keyValid.to(longs).cumsum(1) - 1).clamp_min(0)
                                  : at::arange(Tk, longs).unsqueeze(0).expand({B, Tk});
    at::Tensor same = at::div(d.positions.to(longs), chunk_, "floor")
                          .unsqueeze(2)
                          .eq(at::div(keyPos, chunk_, "floor").unsqueeze(1));
    return padding.defined() ? same & padding.to(same.device()) : same;
  }

  MoeBlock moeBlock(int layer, const LayerWeights& w) const override {
    const MoeDiskNames n = moeDiskNames(layer);
    const std::string p = moePrefix(layer);
    MoeBlock b;
    b.routerWeight = w.get(n.router);
    b.routing.rule = RoutingRule::SigmoidTopK;  // top-k of sigmoid(logit) = top-k of the logits
    b.routing.topK = topK();
    b.weightsScaleInput = true;
    unpackFused(b, w, n);
    b.shared = SharedExpert{w.get(p + "shared_expert.gate_proj.weight"), w.get(p + "shared_expert.up_proj.weight"),
                            w.get(p + "shared_expert.down_proj.weight"), at::Tensor()};
    return b;
  }

  at::Tensor denseMlp(int layer, const LayerWeights& w, const at::Tensor& x) const override {
    const std::string p = moePrefix(layer);
    return swigluMlp(x, w.get(p + "gate_proj.weight"), w.get(p + "up_proj.weight"), w.get(p + "down_proj.weight"));
  }

  // Export writes the expert count and top-k at the top level of config.json; a wrapper's belong in
  // its text_config, which is what transformers reads.
  void rewriteCompactConfig(json& cfg, int64_t /*keptExperts*/) const override {
    if (!wrapped_) return;
    json& text = cfg_.textFields(cfg);
    for (const std::string& key : {cfg_.numExpertsKey, cfg_.topKKey}) {
      if (key.empty() || !cfg.contains(key)) continue;
      text[key] = cfg[key];
      cfg.erase(key);
    }
  }

 private:
  // A boolean field that older configs spell as a number (attn_temperature_tuning was 4 in the
  // first Llama-4 releases): any non-zero number is true.
  bool truthy(const std::string& key, bool fallback) const {
    if (!cfg_.has(key)) return fallback;
    const json& v = cfg_.fields()[key];
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number()) return v.get<double>() != 0.0;
    throw Error(ErrorKind::Config, cfg_.source() + ": field '" + key + "' should be true or false, got " + v.dump());
  }

  // Llama4TextL2Norm: x / sqrt(mean(x^2) + eps) over the head, in fp32, without a weight.
  at::Tensor unitRms(const at::Tensor& x) const { return rmsNormalized(x, cfg_.rmsNormEps).to(x.scalar_type()); }

  bool wrapped_;
  StandardAttentionSpec attn_;
  bool qkNorm_ = true, temperatureTuning_ = true;
  double floorScale_ = 8192.0, attnScale_ = 0.1;
  int64_t chunk_ = 0, mlpWidth_ = 0;
  std::vector<bool> useRope_, chunked_;
  std::set<int> moeLayers_;
  RopeTable rope_;
  at::Tensor tempScale_;  // [1, 1, T, 1]
};

// Scout's text model: every layer MoE, every fourth layer NoPE, chunked attention, llama3 rope.
nlohmann::json textSynthConfig(nlohmann::json c, const SynthDims& d) {
  if (d.sharedIntermediate != 0 && d.sharedIntermediate != d.expertIntermediate)
    throw Error(ErrorKind::InvalidArgument, "synth: llama4's shared expert has the routed experts' width "
                                            "(intermediate_size); give no shared width or the expert width");
  c.erase("architectures");
  c["num_local_experts"] = d.experts;
  c["intermediate_size"] = d.expertIntermediate;
  c["intermediate_size_mlp"] = d.denseIntermediate;
  c["interleave_moe_layer_step"] = 1;
  c["no_rope_layer_interval"] = 4;
  c["attention_chunk_size"] = 8192;
  c["use_qk_norm"] = true;
  c["attn_temperature_tuning"] = true;
  c["floor_scale"] = 8192;
  c["attn_scale"] = 0.1;
  c["rms_norm_eps"] = 1e-5;
  c["rope_parameters"] = {{"rope_type", "llama3"},    {"rope_theta", 500000.0},
                          {"factor", 16.0},           {"low_freq_factor", 1.0},
                          {"high_freq_factor", 1.0},  {"original_max_position_embeddings", 8192}};
  return c;
}

void synthTextConfig(nlohmann::json& c, const SynthDims& d) {
  c = textSynthConfig(c, d);
  c["architectures"] = {llama4TextType().causalLMClass};
}

// The released form: the text model in text_config; no vision tower is written (MoEScope and
// AutoModelForCausalLM do not need one).
void synthWrappedConfig(nlohmann::json& c, const SynthDims& d) {
  json text = textSynthConfig(c, d);
  text["model_type"] = llama4TextType().modelType;
  c = {{"model_type", llama4Type().modelType},
       {"architectures", {llama4Type().causalLMClass}},
       {"tie_word_embeddings", text.value("tie_word_embeddings", false)},
       {"dtype", text.value("dtype", "bfloat16")},
       {"text_config", text}};
}

}  // namespace

// causalLMClass is also the base of an expert-map export's modeling file: for the wrapper that is
// the whole multimodal model, so an expert-map export keeps the vision tower usable.
const ArchitectureType& llama4Type() {
  static const ArchitectureType type{"llama4", "Llama4ForConditionalGeneration", &makeArchitectureOf<Llama4>,
                                     &synthWrappedConfig};
  return type;
}

const ArchitectureType& llama4TextType() {
  static const ArchitectureType type{"llama4_text", "Llama4ForCausalLM", &makeArchitectureOf<Llama4>,
                                     &synthTextConfig};
  return type;
}

}  // namespace moe
