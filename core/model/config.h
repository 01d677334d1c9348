#pragma once
// config.json of a Hugging Face checkpoint, read once into fields every architecture shares.
// Accepts both transformers 4 (rope_theta / rope_scaling / torch_dtype at top level) and
// transformers 5 (rope_parameters / dtype) conventions; architecture-specific fields are read by
// each architecture through the typed getters, whose errors name the field and the file.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace moe {

struct RopeConfig {
  std::string type = "default";  // default | yarn | linear | llama3 ...
  double theta = 10000.0;
  nlohmann::json params = nlohmann::json::object();  // the whole rope_parameters / rope_scaling object
  double getNumber(const std::string& key, double fallback) const;
  bool has(const std::string& key) const;
};

// config.json's quantization_config (core/model/quant.h reads the tensors it describes).
enum class QuantMethod { None, Fp8, Mxfp4 };

struct QuantConfig {
  QuantMethod method = QuantMethod::None;
  std::string methodName;  // quant_method as spelled in config.json ("fp8", "mxfp4")
  // FP8: weight_block_size [rows, cols]; empty when absent or null (one scale per tensor).
  std::vector<int64_t> blockSize;
  // modules_to_not_convert (or its alias ignored_layers): modules kept unquantized.
  std::vector<std::string> modulesToNotConvert;
  nlohmann::json raw = nlohmann::json::object();  // the whole object, written back by exports
  bool quantized() const { return method != QuantMethod::None; }
  // Whether the module of `tensorName` (the name without its last component) is listed in
  // modulesToNotConvert, with transformers' rule: a pattern matches a prefix of the module name
  // ("*" and ".*" stand for any run of characters), or the module name ends with it.
  bool keepsUnquantized(const std::string& tensorName) const;
};
// The methods MoEScope reads: "fp8" (block-wise or per-tensor FP8) and "mxfp4" (gpt-oss experts).
const std::vector<std::string>& supportedQuantMethods();

class ModelConfig {
 public:
  static ModelConfig fromFile(const std::string& path);
  static ModelConfig fromJson(const nlohmann::json& j, const std::string& source);

  // The whole config.json as read (exports start from it; moescope_* fields live at its top level).
  const nlohmann::json& raw() const { return raw_; }
  const std::string& source() const { return source_; }

  // Multimodal wrappers (Llama-4's Llama4ForConditionalGeneration, Qwen3.5-MoE, ...) nest their
  // language model's fields in a "text_config" object. When config.json has one, textConfigKey is
  // "text_config" and every typed field and getter below reads fields(): the top level's fields
  // (quantization_config, moescope_*, ...) overlaid with text_config's, which win. model_type is
  // always the top level's (the wrapper's), so architectures dispatch on it; raw() stays the whole
  // file. Writers that change the language model's fields edit textFields(whole).
  std::string textConfigKey;
  const nlohmann::json& fields() const { return fields_; }
  nlohmann::json& textFields(nlohmann::json& whole) const {
    return textConfigKey.empty() ? whole : whole[textConfigKey];
  }

  std::string modelType;
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;       // head_dim, or hidden_size / num_attention_heads when absent or null
  int64_t vocabSize = 0;
  int64_t intermediateSize = 0;  // dense MLP width
  double rmsNormEps = 1e-6;
  bool tieWordEmbeddings = false;
  std::string dtype;         // "bfloat16", "float16", "float32" or empty
  RopeConfig rope;

  // MoE fields under all their spellings: num_local_experts | num_experts | n_routed_experts | moe_num_experts.
  int64_t numExperts = 0;
  std::string numExpertsKey;  // the spelling this config uses, so export writes the same one
  int64_t topK = 0;           // num_experts_per_tok, or ERNIE-4.5's moe_k
  std::string topKKey = "num_experts_per_tok";  // the spelling this config uses, so export writes the same one
  bool normTopkProb = false;
  int64_t moeIntermediateSize = 0;  // moe_intermediate_size, else intermediate_size
  QuantConfig quant;                // quantization_config; any other quant_method is refused

  // Typed getters for architecture-specific fields; `required` ones throw Config naming the key.
  // Integers must lie within +-limits::kMaxConfigInteger (core/limits.h).
  bool has(const std::string& key) const;
  int64_t getInt(const std::string& key) const;
  int64_t getInt(const std::string& key, int64_t fallback) const;
  double getNumber(const std::string& key) const;
  double getNumber(const std::string& key, double fallback) const;
  bool getBool(const std::string& key, bool fallback) const;
  std::string getString(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> getIntList(const std::string& key) const;         // empty when absent/null
  std::vector<std::string> getStringList(const std::string& key) const;  // empty when absent/null

 private:
  static ModelConfig parse(const nlohmann::json& j, const std::string& source);
  int64_t toInt(const nlohmann::json& v, const std::string& key) const;

  nlohmann::json raw_;
  nlohmann::json fields_;  // what the getters read: raw_, or raw_ overlaid with its text_config
  std::string source_;
};

}  // namespace moe
