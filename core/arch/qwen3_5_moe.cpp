// Qwen3.5-MoE (Qwen3_5MoeForConditionalGeneration): a vision-language wrapper whose config.json holds
// the text model's fields in text_config and whose text model sits under `model.language_model.`
// (lm_head.weight at the top level; the vision tower `model.visual.*` is not read and every export
// copies it unchanged). The text model is Qwen3-Next's (core/arch/qwen3_next_family.h) except:
//   * linear attention input projections stored split: `linear_attn.in_proj_qkv` [2 nk dk + nv dv, H]
//     (all q, all k, all v), `in_proj_z` [nv dv, H], `in_proj_b` and `in_proj_a` [nv, H];
//   * every decoder layer has a MoE block, and the top-k weights are always renormalised;
//   * the released checkpoints store the experts fused: `mlp.experts.gate_up_proj` [E, 2I, H] (gate
//     rows, then up rows) and `mlp.experts.down_proj` [E, H, I]. transformers 5's save_pretrained
//     writes them per expert (`mlp.experts.E.gate_proj|up_proj|down_proj`), so a fine-tune saved with
//     it has that layout; the layout is read from the checkpoint beside config.json (fused when there
//     is none yet, e.g. for synth), and exports keep the source's.
// Text positions are the same on the three M-RoPE axes, so rotary is plain partial rotary.
#include <filesystem>

#include "core/arch/architectures.h"
#include "core/arch/qwen3_next_family.h"
#include "core/error.h"

namespace moe {
namespace {

namespace fs = std::filesystem;

const char* kTextPrefix = "model.language_model.";

// Whether the checkpoint in config.json's folder stores `firstExpert` (a per-expert tensor name).
// No checkpoint there (a config not read from a model folder) or an unreadable one counts as no: the
// model's own open reports what is wrong with the files.
bool storedPerExpert(const ModelConfig& c, const std::string& firstExpert) {
  std::error_code ec;
  const fs::path config(c.source());
  if (!fs::is_regular_file(config, ec) || config.parent_path().empty()) return false;
  try {
    return TensorStore::openFolder(config.parent_path().string())->has(firstExpert);
  } catch (const Error&) {
    return false;
  }
}

class Qwen3_5Moe : public Qwen3NextFamily {
 public:
  explicit Qwen3_5Moe(const ModelConfig& c)
      : Qwen3NextFamily(c, /*normalizeTopk=*/true,
                        !storedPerExpert(c, std::string(kTextPrefix) + "layers.0.mlp.experts.0.gate_proj.weight")) {
    if (c.textConfigKey.empty())
      throw Error(ErrorKind::Config, c.source() + ": a qwen3_5_moe config.json keeps the text model's fields in "
                                                  "text_config, and this one has none");
  }
  std::string name() const override { return qwen3_5MoeType().modelType; }
  std::string modelPrefix() const override { return kTextPrefix; }
  bool isMoeLayer(int /*layer*/) const override { return numExperts() > 0; }

  // Export writes the expert count and top-k at the top level of config.json; they belong in
  // text_config, which is what transformers reads.
  void rewriteCompactConfig(nlohmann::json& cfg, int64_t /*keptExperts*/) const override {
    nlohmann::json& text = cfg_.textFields(cfg);
    for (const std::string& key : {cfg_.numExpertsKey, cfg_.topKKey}) {
      if (key.empty() || !cfg.contains(key)) continue;
      text[key] = cfg[key];
      cfg.erase(key);
    }
  }

 protected:
  void addLinearInputTensors(std::vector<TensorSpec>& s, const std::string& p) const override {
    const int64_t H = cfg_.hiddenSize;
    s.push_back({p + "in_proj_qkv.weight", {2 * keyDim() + valueDim(), H}});
    s.push_back({p + "in_proj_z.weight", {valueDim(), H}});
    s.push_back({p + "in_proj_b.weight", {numValueHeads_, H}});
    s.push_back({p + "in_proj_a.weight", {numValueHeads_, H}});
  }

  LinearInputs linearInputs(const LayerWeights& w, const std::string& p, const at::Tensor& x) const override {
    const int64_t B = x.size(0), T = x.size(1);
    LinearInputs in;
    in.qkv = dense(x, w.get(p + "in_proj_qkv.weight"));
    in.z = dense(x, w.get(p + "in_proj_z.weight")).view({B, T, numValueHeads_, valueHeadDim_});
    in.b = dense(x, w.get(p + "in_proj_b.weight"));
    in.a = dense(x, w.get(p + "in_proj_a.weight"));
    return in;
  }
};

// The released form: the text model in text_config, no vision tower written (MoEScope and
// AutoModelForCausalLM do not need one), fused experts (Qwen3_5Moe reads the layout from the files).
void synthConfig(nlohmann::json& c, const SynthDims& d) {
  nlohmann::json text = c;
  text.erase("architectures");
  text["model_type"] = "qwen3_5_moe_text";
  qwen3NextFamilySynthFields(text, d);
  const int64_t pairs = d.hidden / d.heads / 8;  // rotary frequencies: a quarter of the head, in pairs
  text["rope_parameters"]["mrope_section"] = {pairs - 2 * (pairs / 3), pairs / 3, pairs / 3};
  text["rope_parameters"]["mrope_interleaved"] = true;
  c = {{"model_type", qwen3_5MoeType().modelType},
       {"architectures", {qwen3_5MoeType().causalLMClass}},
       {"tie_word_embeddings", text.value("tie_word_embeddings", false)},
       {"dtype", text.value("dtype", "bfloat16")},
       {"text_config", text}};
}

}  // namespace

// causalLMClass is also the base of an expert-map export's modeling file: for the wrapper that is
// the whole vision-language model, so an expert-map export keeps the vision tower usable.
const ArchitectureType& qwen3_5MoeType() {
  static const ArchitectureType type{"qwen3_5_moe", "Qwen3_5MoeForConditionalGeneration",
                                     &makeArchitectureOf<Qwen3_5Moe>, &synthConfig};
  return type;
}

}  // namespace moe
