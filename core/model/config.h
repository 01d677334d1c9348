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

class ModelConfig {
 public:
  static ModelConfig fromFile(const std::string& path);
  static ModelConfig fromJson(const nlohmann::json& j, const std::string& source);

  const nlohmann::json& raw() const { return raw_; }
  const std::string& source() const { return source_; }

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

  // MoE fields under all their spellings: num_local_experts | num_experts | n_routed_experts.
  int64_t numExperts = 0;
  std::string numExpertsKey;  // the spelling this config uses, so export writes the same one
  int64_t topK = 0;           // num_experts_per_tok
  bool normTopkProb = false;
  int64_t moeIntermediateSize = 0;  // moe_intermediate_size, else intermediate_size

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
  std::string source_;
};

}  // namespace moe
