#pragma once
// Typed field access for tokenizer.json sections, turning shape mistakes into moe::Error
// (Format) that name the file and the section. Internal to moescope_text.
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace moe::text {

inline std::string componentType(const nlohmann::json& cfg, const std::string& context) {
  if (!cfg.is_object() || !cfg.contains("type") || !cfg["type"].is_string()) {
    throw Error(ErrorKind::Format, context + ": expected an object with a string \"type\"");
  }
  return cfg["type"].get<std::string>();
}

inline bool boolField(const nlohmann::json& cfg, const char* key, bool fallback,
                      const std::string& context) {
  if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
  if (!cfg[key].is_boolean()) {
    throw Error(ErrorKind::Format, context + ": field \"" + key + "\" must be a boolean");
  }
  return cfg[key].get<bool>();
}

inline std::string stringField(const nlohmann::json& cfg, const char* key,
                               const std::string& fallback, const std::string& context) {
  if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
  if (!cfg[key].is_string()) {
    throw Error(ErrorKind::Format, context + ": field \"" + key + "\" must be a string");
  }
  return cfg[key].get<std::string>();
}

inline const nlohmann::json& requiredField(const nlohmann::json& cfg, const char* key,
                                           const std::string& context) {
  if (!cfg.is_object() || !cfg.contains(key)) {
    throw Error(ErrorKind::Format, context + ": missing field \"" + key + "\"");
  }
  return cfg[key];
}

inline Error unsupportedComponent(const std::string& file, const std::string& kind,
                                  const std::string& type, const std::string& supported) {
  return Error(ErrorKind::Unsupported, file + ": " + kind + " type \"" + type +
                                           "\" is not supported (supported: " + supported + ")");
}

}  // namespace moe::text
