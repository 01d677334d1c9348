// GLM-4.5 (glm4_moe) beyond what every fixture is tested for (forward, analysis and merge against
// transformers in test_forward / test_analysis / test_merge): partial rotary under both config.json
// conventions, and the multi-token-prediction (MTP) block its checkpoints carry. The fixture
// (tests/data/hf-tiny/glm4_moe, scripts/fixtures/archs/glm4_moe.py) has one, model.layers.3.*, added
// by the generator because save_pretrained drops it: the loader validates it against config.json,
// and a merged export leaves it out, declares num_nextn_predict_layers = 0 and says so in its card.
#include "tests/catch_torch.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/io/h5file.h"
#include "core/merge/export.h"
#include "core/merge/plan.h"
#include "core/model/safetensors.h"
#include "tests/checkpoint_copy.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kFixture = fs::path(MOESCOPE_TEST_DATA) / "hf-tiny" / "glm4_moe";
constexpr int kLayers = 3;  // num_hidden_layers of the fixture; its MTP block is layer 3

struct Scratch : moe::test::ScratchDir {
  Scratch() : ScratchDir("glm4") {}
};

json readJson(const fs::path& file) { return moe::test::readJsonFile(file); }

bool isMtpName(const std::string& n) {
  const std::string p = "model.layers.";
  return n.rfind(p, 0) == 0 && std::stoi(n.substr(p.size())) >= kLayers;
}

void copyFixture(const fs::path& dir, const std::function<void(json&)>& editConfig = {},
                 const moe::test::TensorEdit& editTensors = {}) {
  moe::test::copyCheckpoint(kFixture, dir, editConfig, editTensors);
}

using moe::test::bf16Blob;

double relativeError(const at::Tensor& got, const at::Tensor& ref) { return moe::test::maxRelativeError(got, ref); }

at::Tensor referenceIds() {
  moe::h5::File ref((kFixture / "reference.h5").string(), moe::h5::File::Mode::Read);
  return moe::readIntTensor(ref, "input_ids");
}

at::Tensor referenceLogits() {
  moe::h5::File ref((kFixture / "reference.h5").string(), moe::h5::File::Mode::Read);
  return moe::readFloatTensor(ref, "logits");
}

std::string openError(const fs::path& dir) { return moe::test::modelOpenError(dir); }

moe::MergePlan referencePlan(moe::ExportFormat format) { return moe::test::referenceMergePlan(kFixture, format); }

}  // namespace

TEST_CASE("glm4_moe's MTP block loads, outside the decoder layers", "[glm4_moe][mtp]") {
  auto model = moe::Model::open(kFixture.string(), moe::test::runtime("fp32"));
  CHECK(model->numLayers() == kLayers);
  CHECK((model->moeLayers() == std::vector<int>{1, 2}));
  int mtp = 0;
  for (const auto& n : model->store().names())
    if (isMtpName(n)) {
      ++mtp;
      CHECK(model->arch().isMtpTensor(n));
    } else {
      CHECK_FALSE(model->arch().isMtpTensor(n));
    }
  // A MoE decoder layer (8 experts, shared expert, q/k norms and biases) plus the six MTP tensors.
  CHECK(mtp == 8 * 3 + 3 + 2 + 11 + 6);
  CHECK(relativeError(model->forward(referenceIds()), referenceLogits()) <= 1e-3);
}

TEST_CASE("glm4_moe's MTP tensors are checked against config.json", "[glm4_moe][mtp]") {
  Scratch s;
  SECTION("an MTP expert beyond n_routed_experts") {
    copyFixture(s.dir, {}, [](auto& t) {
      t["model.layers.3.mlp.experts.8.gate_proj.weight"] = bf16Blob("model.layers.3.mlp.experts.8.gate_proj.weight", {16, 32});
    });
    CHECK_THAT(openError(s.dir), moe::test::Contains("'model.layers.3.mlp.experts.8.gate_proj.weight'"));
  }
  SECTION("an MTP router for another expert count") {
    copyFixture(s.dir, {}, [](auto& t) { t["model.layers.3.mlp.gate.weight"] = bf16Blob("model.layers.3.mlp.gate.weight", {16, 32}); });
    const std::string e = openError(s.dir);
    CHECK_THAT(e, moe::test::Contains("'model.layers.3.mlp.gate.weight'"));
    CHECK_THAT(e, moe::test::Contains("[16, 32]"));
    CHECK_THAT(e, moe::test::Contains("[8, 32]"));
  }
  SECTION("eh_proj of the wrong width") {
    copyFixture(s.dir, {}, [](auto& t) { t["model.layers.3.eh_proj.weight"] = bf16Blob("model.layers.3.eh_proj.weight", {32, 32}); });
    CHECK_THAT(openError(s.dir), moe::test::Contains("'model.layers.3.eh_proj.weight' has shape [32, 32], expected [32, 64]"));
  }
  SECTION("a config that declares no MTP layers") {
    copyFixture(s.dir, [](json& c) { c["num_nextn_predict_layers"] = 0; });
    CHECK_THAT(openError(s.dir), moe::test::Contains("'model.layers.3."));
  }
  SECTION("tensors of a second MTP layer the config does not declare") {
    copyFixture(s.dir, {}, [](auto& t) { t["model.layers.4.enorm.weight"] = bf16Blob("model.layers.4.enorm.weight", {32}); });
    CHECK_THAT(openError(s.dir), moe::test::Contains("'model.layers.4.enorm.weight'"));
  }
  SECTION("a checkpoint stripped of its MTP block still loads and computes the same") {
    copyFixture(s.dir, {}, [](auto& t) {
      for (auto it = t.begin(); it != t.end();) it = isMtpName(it->first) ? t.erase(it) : std::next(it);
    });
    auto model = moe::Model::open(s.dir.string(), moe::test::runtime("fp32"));
    CHECK(relativeError(model->forward(referenceIds()), referenceLogits()) <= 1e-3);
  }
  SECTION("without shared_head.head and embed_tokens, which some uploads strip") {
    copyFixture(s.dir, {}, [](auto& t) {
      t.erase("model.layers.3.shared_head.head.weight");
      t.erase("model.layers.3.embed_tokens.weight");
    });
    CHECK_NOTHROW(moe::Model::open(s.dir.string(), moe::test::runtime("fp32")));
  }
}

TEST_CASE("a merged glm4_moe export drops the MTP block and says so", "[glm4_moe][mtp][export]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(kFixture.string(), rt);
  moe::ExportOptions opt;
  opt.fingerprint = "test";
  for (auto format : {moe::ExportFormat::Compact, moe::ExportFormat::ExpertMap}) {
    DYNAMIC_SECTION(moe::exportFormatName(format)) {
      Scratch s;
      const auto res = moe::exportMergedModel(*model, referencePlan(format), (s.dir / "out").string(), opt);
      auto store = moe::TensorStore::openFolder(res.folder);
      int mtp = 0;
      for (const auto& n : store->names()) mtp += isMtpName(n);
      CHECK(mtp == 0);
      const json cfg = readJson(fs::path(res.folder) / "config.json");
      CHECK(cfg["num_nextn_predict_layers"] == 0);
      std::ifstream card(fs::path(res.folder) / "README.md");
      const std::string text((std::istreambuf_iterator<char>(card)), std::istreambuf_iterator<char>());
      CHECK_THAT(text, moe::test::Contains("multi-token-prediction (MTP) block is not included"));
      CHECK_NOTHROW(moe::Model::open(res.folder, rt));
    }
  }
  SECTION("an export that merges nothing keeps it") {
    moe::MergePlan plan = referencePlan(moe::ExportFormat::ExpertMap);
    for (auto& lp : plan.layers) lp = moe::keepLayerPlan(lp.moeIndex, lp.numExperts);
    Scratch s;
    const auto res = moe::exportMergedModel(*model, plan, (s.dir / "out").string(), opt);
    auto store = moe::TensorStore::openFolder(res.folder);
    int mtp = 0;
    for (const auto& n : store->names()) mtp += isMtpName(n);
    CHECK(mtp == 8 * 3 + 3 + 2 + 11 + 6);
    CHECK(readJson(fs::path(res.folder) / "config.json")["num_nextn_predict_layers"] == 1);
  }
}

TEST_CASE("glm4_moe reads partial_rotary_factor in both config conventions", "[glm4_moe][rope]") {
  const auto rt = moe::test::runtime("fp32");
  Scratch s;
  auto logitsWith = [&](const std::function<void(json&)>& edit) {
    fs::remove_all(s.dir);
    fs::create_directories(s.dir);
    copyFixture(s.dir, edit);
    return moe::Model::open(s.dir.string(), rt)->forward(referenceIds());
  };
  // transformers 4: rope_theta and partial_rotary_factor at the top level, no rope_parameters.
  at::Tensor v4 = logitsWith([](json& c) {
    c.erase("rope_parameters");
    c["rope_theta"] = 10000.0;
    c["partial_rotary_factor"] = 0.5;
  });
  CHECK(relativeError(v4, referenceLogits()) <= 1e-3);
  // Absent everywhere: transformers' default, 0.5.
  at::Tensor absent = logitsWith([](json& c) {
    c.erase("partial_rotary_factor");
    c["rope_parameters"].erase("partial_rotary_factor");
  });
  CHECK(relativeError(absent, referenceLogits()) <= 1e-3);
  // The factor is used: rotating whole heads gives other logits.
  at::Tensor full = logitsWith([](json& c) { c["rope_parameters"]["partial_rotary_factor"] = 1.0; });
  CHECK(relativeError(full, referenceLogits()) > 1e-2);
  for (double bad : {0.0, 1.5, 0.2 /* 16 x 0.2 -> 3 dims: odd */}) {
    INFO("partial_rotary_factor " << bad);
    fs::remove_all(s.dir);
    fs::create_directories(s.dir);
    copyFixture(s.dir, [&](json& c) { c["rope_parameters"]["partial_rotary_factor"] = bad; });
    CHECK_THAT(openError(s.dir), moe::test::Contains("partial_rotary_factor"));
  }
}
