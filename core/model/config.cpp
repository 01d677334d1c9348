#include "core/model/config.h"

#include <cmath>
#include <filesystem>
#include <tuple>
#include <fstream>

#include "core/error.h"
#include "core/limits.h"

using nlohmann::json;

namespace moe {

double RopeConfig::getNumber(const std::string& key, double fallback) const {
  if (params.contains(key) && params[key].is_number()) return params[key].get<double>();
  return fallback;
}

bool RopeConfig::has(const std::string& key) const { return params.contains(key) && !params[key].is_null(); }

const std::vector<std::string>& supportedQuantMethods() {
  static const std::vector<std::string> methods{"fp8", "mxfp4"};
  return methods;
}

namespace {

// Whether `pattern` matches a prefix of `text`, "*" (and regex's ".*") matching any run of
// characters. The classic two-pointer glob match, O(|pattern| x |text|): the patterns come from an
// untrusted config.json, so neither std::regex nor naive backtracking.
bool matchesPrefix(std::string pattern, const std::string& text) {
  for (size_t i; (i = pattern.find(".*")) != std::string::npos;) pattern.replace(i, 2, "*");
  pattern += '*';  // a prefix match, like Python's re.match
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

QuantConfig parseQuantConfig(const json& j, const std::string& source) {
  QuantConfig q;
  if (!j.contains("quantization_config") || j["quantization_config"].is_null()) return q;
  const json& qc = j["quantization_config"];
  const std::string where = source + ": quantization_config";
  if (!qc.is_object()) throw Error(ErrorKind::Config, where + " should be an object, got " + qc.dump());
  if (!qc.contains("quant_method") || !qc["quant_method"].is_string())
    throw Error(ErrorKind::Config, where + " has no quant_method string");
  q.raw = qc;
  q.methodName = qc["quant_method"].get<std::string>();
  std::string supported;
  for (const auto& m : supportedQuantMethods()) supported += (supported.empty() ? "" : ", ") + m;
  if (q.methodName == "fp8") q.method = QuantMethod::Fp8;
  else if (q.methodName == "mxfp4") q.method = QuantMethod::Mxfp4;
  else
    throw Error(ErrorKind::Unsupported, where + ".quant_method '" + q.methodName +
                                            "' is not supported; MoEScope reads quantized checkpoints of " + supported +
                                            " (and unquantized BF16, F16 or F32 ones)");
  for (const char* key : {"modules_to_not_convert", "ignored_layers"}) {
    if (!qc.contains(key) || qc[key].is_null()) continue;
    if (!qc[key].is_array()) throw Error(ErrorKind::Config, where + "." + key + " should be a list of module names");
    for (const auto& m : qc[key]) {
      if (!m.is_string()) throw Error(ErrorKind::Config, where + "." + key + " should hold strings, got " + m.dump());
      q.modulesToNotConvert.push_back(m.get<std::string>());
    }
  }
  if (q.method == QuantMethod::Fp8 && qc.contains("weight_block_size") && !qc["weight_block_size"].is_null()) {
    const json& b = qc["weight_block_size"];
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_integer() ||
        b[0].get<int64_t>() < 1 || b[1].get<int64_t>() < 1 || b[0].get<int64_t>() > limits::kMaxWidth ||
        b[1].get<int64_t>() > limits::kMaxWidth)
      throw Error(ErrorKind::Config, where + ".weight_block_size should be two positive integers [rows, cols], got " +
                                         b.dump());
    q.blockSize = {b[0].get<int64_t>(), b[1].get<int64_t>()};
  }
  return q;
}

}  // namespace

bool QuantConfig::keepsUnquantized(const std::string& tensorName) const {
  const size_t dot = tensorName.rfind('.');
  const std::string module = dot == std::string::npos ? tensorName : tensorName.substr(0, dot);
  for (const auto& pattern : modulesToNotConvert) {
    if (pattern.empty()) continue;
    if (matchesPrefix(pattern, module)) return true;
    if (module.size() >= pattern.size() && module.compare(module.size() - pattern.size(), pattern.size(), pattern) == 0)
      return true;
  }
  return false;
}

ModelConfig ModelConfig::fromFile(const std::string& path) {
  if (std::filesystem::is_directory(path)) return fromFile((std::filesystem::path(path) / "config.json").string());
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::Config, path + ": missing or unreadable; a model folder needs its config.json");
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > limits::kMaxJsonFile)
    throw Error(ErrorKind::Config, path + ": " + std::to_string(size) + " bytes, more than the " +
                                       std::to_string(limits::kMaxJsonFile) + "-byte limit for a config.json");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Config, path + ": not valid JSON (" + e.what() + ")");
  }
  return fromJson(j, path);
}

ModelConfig ModelConfig::fromJson(const json& j, const std::string& source) {
  return readerBoundary(source, [&] { return parse(j, source); });
}

ModelConfig ModelConfig::parse(const json& j, const std::string& source) {
  if (!j.is_object()) throw Error(ErrorKind::Config, source + ": the top level is not a JSON object");
  ModelConfig c;
  c.raw_ = j;
  c.fields_ = j;
  c.source_ = source;
  c.modelType = c.getString("model_type", "");  // the top level's: a wrapper's text_config has its own
  if (c.modelType.empty()) throw Error(ErrorKind::Config, source + ": no model_type");
  if (j.contains("text_config") && !j["text_config"].is_null()) {
    if (!j["text_config"].is_object())
      throw Error(ErrorKind::Config, source + ": text_config should be an object, got " + j["text_config"].dump());
    c.textConfigKey = "text_config";
    c.fields_.erase("text_config");
    for (const auto& [key, value] : j["text_config"].items()) c.fields_[key] = value;
  }
  c.hiddenSize = c.getInt("hidden_size");
  c.numLayers = c.getInt("num_hidden_layers");
  c.numHeads = c.getInt("num_attention_heads");
  c.numKvHeads = c.getInt("num_key_value_heads", c.numHeads);
  c.headDim = c.getInt("head_dim", 0);
  if (c.headDim <= 0) {
    if (c.numHeads <= 0 || c.hiddenSize % c.numHeads != 0)
      throw Error(ErrorKind::Config, source + ": hidden_size is not a multiple of num_attention_heads");
    c.headDim = c.hiddenSize / c.numHeads;
  }
  c.vocabSize = c.getInt("vocab_size");
  c.intermediateSize = c.getInt("intermediate_size", 0);
  c.rmsNormEps = c.getNumber("rms_norm_eps", 1e-6);
  c.tieWordEmbeddings = c.getBool("tie_word_embeddings", false);
  c.dtype = c.getString("dtype", c.getString("torch_dtype", ""));

  // transformers 5 keeps everything in rope_parameters; transformers 4 has rope_theta at the top
  // level and an optional rope_scaling object (with "type" in older files, "rope_type" in newer).
  const json& f = c.fields_;
  if (f.contains("rope_parameters") && f["rope_parameters"].is_object()) {
    c.rope.params = f["rope_parameters"];
  } else if (f.contains("rope_scaling") && f["rope_scaling"].is_object()) {
    c.rope.params = f["rope_scaling"];
  }
  if (c.rope.params.contains("rope_type") && c.rope.params["rope_type"].is_string())
    c.rope.type = c.rope.params["rope_type"].get<std::string>();
  else if (c.rope.params.contains("type") && c.rope.params["type"].is_string())
    c.rope.type = c.rope.params["type"].get<std::string>();
  c.rope.theta = c.rope.getNumber("rope_theta", c.getNumber("rope_theta", 10000.0));

  for (const char* key : {"num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"}) {
    if (c.has(key) && c.getInt(key) > 0) {
      c.numExperts = c.getInt(key);
      c.numExpertsKey = key;
      break;
    }
  }
  // transformers maps num_experts_per_tok onto ERNIE-4.5's moe_k (the alias wins where both are present).
  if (!c.has("num_experts_per_tok") && c.has("moe_k")) c.topKKey = "moe_k";
  c.topK = c.getInt(c.topKKey, 0);
  c.normTopkProb = c.getBool("norm_topk_prob", false);
  c.moeIntermediateSize = c.getInt("moe_intermediate_size", c.intermediateSize);
  c.quant = parseQuantConfig(j, source);
  for (auto [name, value] : {std::pair<const char*, int64_t>{"hidden_size", c.hiddenSize},
                             {"num_hidden_layers", c.numLayers},
                             {"num_attention_heads", c.numHeads},
                             {"num_key_value_heads", c.numKvHeads},
                             {"vocab_size", c.vocabSize}}) {
    if (value <= 0) throw Error(ErrorKind::Config, source + ": " + name + " must be positive, got " + std::to_string(value));
  }
  // Bounded before anything loops over layers or experts or allocates per vocabulary entry.
  for (auto [name, value, limit] : {std::tuple<const char*, int64_t, int64_t>{"num_hidden_layers", c.numLayers, limits::kMaxLayers},
                                    {c.numExpertsKey.empty() ? "num_experts" : c.numExpertsKey.c_str(), c.numExperts, limits::kMaxExperts},
                                    {"vocab_size", c.vocabSize, limits::kMaxVocab},
                                    {"hidden_size", c.hiddenSize, limits::kMaxWidth},
                                    {"num_attention_heads", c.numHeads, limits::kMaxWidth},
                                    {"num_key_value_heads", c.numKvHeads, limits::kMaxWidth},
                                    {"head_dim", c.headDim, limits::kMaxWidth},
                                    {"intermediate_size", c.intermediateSize, limits::kMaxWidth},
                                    {"moe_intermediate_size", c.moeIntermediateSize, limits::kMaxWidth}}) {
    if (value > limit)
      throw Error(ErrorKind::Config, source + ": " + name + " is " + std::to_string(value) + ", more than the limit of " +
                                         std::to_string(limit));
  }
  if (c.topK < 0)
    throw Error(ErrorKind::Config, source + ": " + c.topKKey + " must not be negative, got " + std::to_string(c.topK));
  if (c.numHeads % c.numKvHeads != 0)
    throw Error(ErrorKind::Config, source + ": num_attention_heads (" + std::to_string(c.numHeads) +
                                       ") is not a multiple of num_key_value_heads (" + std::to_string(c.numKvHeads) + ")");
  return c;
}

bool ModelConfig::has(const std::string& key) const { return fields_.contains(key) && !fields_[key].is_null(); }

// An integer field within +-limits::kMaxConfigInteger (so sums and products of two stay exact),
// also accepting integral floats such as 4096.0; anything else throws Config naming the field.
int64_t ModelConfig::toInt(const json& v, const std::string& key) const {
  const auto bound = static_cast<double>(limits::kMaxConfigInteger);
  double d = 0;
  if (v.is_number_unsigned()) {
    d = v.get<uint64_t>() > static_cast<uint64_t>(limits::kMaxConfigInteger) ? bound * 2 : static_cast<double>(v.get<uint64_t>());
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    d = i < -limits::kMaxConfigInteger || i > limits::kMaxConfigInteger ? bound * 2 : static_cast<double>(i);
  } else if (v.is_number_float()) {
    d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d))  // NaN, infinities and fractions
      throw Error(ErrorKind::Config, source_ + ": field '" + key + "' should be an integer, got " + v.dump());
  } else {
    throw Error(ErrorKind::Config, source_ + ": field '" + key + "' should be an integer, got " + v.dump());
  }
  if (d < -bound || d > bound)
    throw Error(ErrorKind::Config, source_ + ": field '" + key + "' is " + v.dump() + ", outside the supported range [-" +
                                       std::to_string(limits::kMaxConfigInteger) + ", " +
                                       std::to_string(limits::kMaxConfigInteger) + "]");
  return static_cast<int64_t>(d);
}

int64_t ModelConfig::getInt(const std::string& key) const {
  if (!has(key)) throw Error(ErrorKind::Config, source_ + ": required field '" + key + "' is missing");
  return toInt(fields_[key], key);
}

int64_t ModelConfig::getInt(const std::string& key, int64_t fallback) const { return has(key) ? getInt(key) : fallback; }

double ModelConfig::getNumber(const std::string& key) const {
  if (!has(key)) throw Error(ErrorKind::Config, source_ + ": required field '" + key + "' is missing");
  const json& v = fields_[key];
  if (!v.is_number()) throw Error(ErrorKind::Config, source_ + ": field '" + key + "' should be a number, got " + v.dump());
  return v.get<double>();
}

double ModelConfig::getNumber(const std::string& key, double fallback) const { return has(key) ? getNumber(key) : fallback; }

bool ModelConfig::getBool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const json& v = fields_[key];
  if (!v.is_boolean()) throw Error(ErrorKind::Config, source_ + ": field '" + key + "' should be true or false, got " + v.dump());
  return v.get<bool>();
}

std::string ModelConfig::getString(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  const json& v = fields_[key];
  if (!v.is_string()) throw Error(ErrorKind::Config, source_ + ": field '" + key + "' should be a string, got " + v.dump());
  return v.get<std::string>();
}

std::vector<int64_t> ModelConfig::getIntList(const std::string& key) const {
  std::vector<int64_t> out;
  if (!has(key)) return out;
  const json& v = fields_[key];
  if (!v.is_array()) throw Error(ErrorKind::Config, source_ + ": field '" + key + "' should be a list, got " + v.dump());
  for (auto& e : v) {
    if (!e.is_number_integer()) throw Error(ErrorKind::Config, source_ + ": field '" + key + "' should hold integers");
    out.push_back(toInt(e, key));
  }
  return out;
}

std::vector<std::string> ModelConfig::getStringList(const std::string& key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const json& v = fields_[key];
  if (!v.is_array()) throw Error(ErrorKind::Config, source_ + ": field '" + key + "' should be a list, got " + v.dump());
  for (auto& e : v) {
    if (!e.is_string()) throw Error(ErrorKind::Config, source_ + ": field '" + key + "' should hold strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace moe
