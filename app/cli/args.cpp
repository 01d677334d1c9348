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
