#pragma once
// Edited copies of a reference checkpoint for the architecture tests that need a variant of a fixture
// (an MTP block added or removed, a config field changed): a scratch folder, the copy with edits of
// config.json and of the tensors by name, and the small comparisons those tests make.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/io/h5file.h"
#include "core/merge/plan.h"
#include "core/model/safetensors.h"
#include "tests/catch_torch.h"

namespace moe::test {

// A fresh folder under the temporary directory, removed with its contents at scope exit.
struct ScratchDir {
  std::filesystem::path dir;
  explicit ScratchDir(const std::string& tag) {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() /
          ("moescope-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

inline nlohmann::json readJsonFile(const std::filesystem::path& file) {
  nlohmann::json j;
  std::ifstream(file) >> j;
  return j;
}

inline void writeJsonFile(const std::filesystem::path& file, const nlohmann::json& j) {
  std::ofstream(file) << j.dump(2);
}

using TensorEdit = std::function<void(std::map<std::string, moe::TensorBlob>&)>;

// A copy of the checkpoint `src` (config.json + model.safetensors) in `dir` whose config.json and tensors
// went through the edits given (edit the blobs by name; erase to drop one).
inline void copyCheckpoint(const std::filesystem::path& src, const std::filesystem::path& dir,
                           const std::function<void(nlohmann::json&)>& editConfig = {},
                           const TensorEdit& editTensors = {}) {
  nlohmann::json cfg = readJsonFile(src / "config.json");
  if (editConfig) editConfig(cfg);
  writeJsonFile(dir / "config.json", cfg);
  moe::SafetensorsFile file((src / "model.safetensors").string());
  std::map<std::string, moe::TensorBlob> blobs;
  for (const auto& [name, info] : file.tensors()) {
    moe::TensorBlob b;
    b.name = name;
    b.dtype = info.dtype;
    b.shape = info.shape;
    b.bytes.assign(info.data, info.data + info.nbytes);
    blobs[name] = std::move(b);
  }
  if (editTensors) editTensors(blobs);
  std::vector<const moe::TensorBlob*> ptrs;
  for (const auto& [name, b] : blobs) ptrs.push_back(&b);
  moe::writeSafetensors((dir / "model.safetensors").string(), ptrs);
}

// A zero BF16 tensor of the given shape.
inline moe::TensorBlob bf16Blob(const std::string& name, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return {name, moe::DType::BF16, std::move(shape), std::vector<uint8_t>(static_cast<size_t>(2 * n), 0)};
}

// max |got - ref| / max |ref|.
inline double maxRelativeError(const at::Tensor& got, const at::Tensor& ref) {
  REQUIRE(got.sizes() == ref.sizes());
  const double scale = ref.abs().max().item<double>();
  return (got.to(at::kCPU, at::kFloat) - ref.to(at::kCPU, at::kFloat)).abs().max().item<double>() / scale;
}

// The message Model::open throws for the checkpoint in `dir` (the test fails if it opens).
inline std::string modelOpenError(const std::filesystem::path& dir) {
  try {
    moe::Model::open(dir.string(), moe::test::runtime("fp32"));
  } catch (const moe::Error& e) {
    return e.what();
  }
  FAIL("the model opened");
  return "";
}

// input_ids and the transformers logits of a fixture's reference.h5.
inline at::Tensor fixtureInputIds(const std::filesystem::path& fixture) {
  moe::h5::File ref((fixture / "reference.h5").string(), moe::h5::File::Mode::Read);
  return moe::readIntTensor(ref, "input_ids");
}

inline at::Tensor fixtureLogits(const std::filesystem::path& fixture) {
  moe::h5::File ref((fixture / "reference.h5").string(), moe::h5::File::Mode::Read);
  return moe::readFloatTensor(ref, "logits");
}

// The reference groups of a fixture's hcsmoe_reference.h5 (average linkage, K = E/2, frequency-weighted),
// as a merge plan in `format`.
inline moe::MergePlan referenceMergePlan(const std::filesystem::path& fixture, moe::ExportFormat format) {
  moe::h5::File ref((fixture / "hcsmoe_reference.h5").string(), moe::h5::File::Mode::Read);
  const nlohmann::json groups = nlohmann::json::parse(ref.readStringAttribute("merged_tied_average_half", "groups"));
  moe::MergePlan plan;
  plan.modelFingerprint = "test";
  plan.format = format;
  for (const auto& j : ref.children("layers")) {
    const std::string module = ref.readStringAttribute("layers/" + j, "module");
    plan.layers.push_back(moe::mergeLayerPlan(std::stoi(j), groups.at(module).get<std::vector<int64_t>>(),
                                              moe::MergeStrategy::FrequencyWeighted,
                                              ref.readDouble("layers/" + j + "/usage_frequency").data));
  }
  return plan;
}

}  // namespace moe::test
