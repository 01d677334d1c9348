#pragma once
// The reference fixtures under tests/data/hf-tiny: one folder per architecture and quantized
// format, each a transformers checkpoint with its reference.h5 / hcsmoe_reference.h5
// (scripts/fixtures/make_reference.py). Tests iterate the folders, so a new fixture is tested by
// every forward, analysis, clustering and merge test without editing them.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace moe::test {

inline std::vector<std::string> fixtureArchitectures() {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(std::string(MOESCOPE_TEST_DATA) + "/hf-tiny"))
    if (fs::is_regular_file(entry.path() / "config.json")) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace moe::test
