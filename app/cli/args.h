#pragma once
// Minimal "--key value" / "--flag" parsing for the CLI subcommands. Unknown options are errors,
// so a typo never silently runs with a default.
#include <map>
#include <set>
#include <string>
#include <vector>

namespace moe::cli {

class Args {
 public:
  // `valued`: options that take a value; `flags`: options that do not.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& valued, const std::set<std::string>& flags);

  bool has(const std::string& key) const { return values_.count(key) || flags_.count(key); }
  std::string get(const std::string& key) const;  // throws InvalidArgument naming the missing option
  std::string get(const std::string& key, const std::string& fallback) const;
  int64_t getInt(const std::string& key, int64_t fallback) const;
  // As getInt, and an error naming the option and the range when the value lies outside [min, max].
  int64_t getInt(const std::string& key, int64_t fallback, int64_t min, int64_t max) const;
  double getNumber(const std::string& key, double fallback) const;
  // The value of an enumerated option; an unknown value is an error listing the accepted ones.
  std::string choice(const std::string& key, const std::string& fallback, const std::vector<std::string>& accepted) const;
  // An error for each option given that `reason` makes meaningless (e.g. clustering options with --plan),
  // so that it is not silently ignored.
  void refuse(const std::vector<std::string>& keys, const std::string& reason) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

}  // namespace moe::cli
