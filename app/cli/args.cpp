#include "app/cli/args.h"

#include "core/error.h"

namespace moe::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
           const std::set<std::string>& flags) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string key = a.substr(2), value;
    const size_t eq = key.find('=');
    const bool inlineValue = eq != std::string::npos;
    if (inlineValue) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    if (flags.count(key)) {
      flags_.insert(key);
    } else if (valued.count(key)) {
      if (!inlineValue) {
        if (i + 1 >= argv.size()) throw Error(ErrorKind::InvalidArgument, "option --" + key + " needs a value");
        value = argv[++i];
      }
      values_[key] = value;
    } else {
      throw Error(ErrorKind::InvalidArgument, "unknown option --" + key);
    }
  }
}

std::string Args::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw Error(ErrorKind::InvalidArgument, "missing required option --" + key);
  return it->second;
}

std::string Args::get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

int64_t Args::getInt(const std::string& key, int64_t fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  try {
    size_t pos = 0;
    int64_t v = std::stoll(it->second, &pos);
    if (pos == it->second.size()) return v;
  } catch (...) {
  }
  throw Error(ErrorKind::InvalidArgument, "option --" + key + " expects an integer, got '" + it->second + "'");
}

int64_t Args::getInt(const std::string& key, int64_t fallback, int64_t min, int64_t max) const {
  const int64_t v = getInt(key, fallback);
  if (v < min || v > max)
    throw Error(ErrorKind::InvalidArgument, "option --" + key + " must be between " + std::to_string(min) + " and " +
                                                std::to_string(max) + ", got " + std::to_string(v));
  return v;
}

std::string Args::choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& accepted) const {
  const std::string v = get(key, fallback);
  std::string list;
  for (const auto& a : accepted) {
    if (a == v) return v;
    list += (list.empty() ? "" : ", ") + a;
  }
  throw Error(ErrorKind::InvalidArgument, "option --" + key + ": unknown value '" + v + "' (accepted: " + list + ")");
}

void Args::refuse(const std::vector<std::string>& keys, const std::string& reason) const {
  for (const auto& k : keys)
    if (has(k)) throw Error(ErrorKind::InvalidArgument, "option --" + k + " has no effect " + reason);
}

double Args::getNumber(const std::string& key, double fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  try {
    size_t pos = 0;
    double v = std::stod(it->second, &pos);
    if (pos == it->second.size()) return v;
  } catch (...) {
  }
  throw Error(ErrorKind::InvalidArgument, "option --" + key + " expects a number, got '" + it->second + "'");
}

}  // namespace moe::cli
