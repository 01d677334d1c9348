#pragma once
// Inputs shared by the CLI tests: the tiny reference checkpoints, the demo model, one analysis of
// the tiny Mixtral made once per run, and readers for what the CLI writes.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moe::test {

std::string hfTiny(const std::string& arch);  // tests/data/hf-tiny/<arch>
std::string demoModel();                      // resources/demo/demo-moe
std::string demoFile(const std::string& name);  // resources/demo/<name>

// A folder for the whole run (removed at exit) and, made on first use, `analyze` of the tiny
// Mixtral on its reference calibration ids.
const std::filesystem::path& runDir();
std::string mixtralAnalysis();

nlohmann::json readJson(const std::filesystem::path& path);

// A tensor of a checkpoint folder as float32 (BF16, F16 and F32 on disk), and its shape.
std::vector<float> readTensor(const std::string& folder, const std::string& name, std::vector<int64_t>* shape = nullptr);
std::vector<std::string> tensorNames(const std::string& folder);

// 64-bit FNV-1a of every file's bytes under `folder`, by relative path: equal maps mean equal trees.
std::map<std::string, uint64_t> hashTree(const std::filesystem::path& folder);

// Writes [rows, cols] random token ids below `vocab` as an int64 HDF5 dataset; returns "FILE:DATASET".
std::string writeIds(const std::string& file, int64_t rows, int64_t cols, int64_t vocab, uint64_t seed);

}  // namespace moe::test
