// DeepSeek-V3 and DeepSeek-V3.2 beyond what every fixture is tested for (forward, analysis and merge
// against transformers in test_forward / test_analysis / test_merge):
//   * the multi-token-prediction (MTP) block released DeepSeek-V3/R1 checkpoints carry as
//     model.layers.<num_hidden_layers>.* (save_pretrained drops it, so the tests append one to a copy of
//     the fixture): it loads, leaves the forward unchanged, is checked against config.json, and a merged
//     export leaves it out, declares num_nextn_predict_layers = 0 and says so in its card;
//   * DeepSeek-V3.2's indexer: the fixture's index_topk (8) is below its 24-token inputs, so its sparse
//     mask changes the logits transformers computed; config.json fields it depends on.
#include "tests/catch_torch.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/engine/model.h"
#include "core/error.h"
#include "core/merge/export.h"
#include "core/merge/plan.h"
#include "core/model/safetensors.h"
#include "tests/checkpoint_copy.h"

namespace fs = std::filesystem;
using nlohmann::json;
using moe::test::bf16Blob;
using moe::test::maxRelativeError;
using moe::test::modelOpenError;

namespace {

const fs::path kV3 = fs::path(MOESCOPE_TEST_DATA) / "hf-tiny" / "deepseek_v3";
const fs::path kV32 = fs::path(MOESCOPE_TEST_DATA) / "hf-tiny" / "deepseek_v32";
constexpr int kLayers = 3;  // num_hidden_layers of both fixtures: the MTP block is layer 3

bool isMtpName(const std::string& n) {
  const std::string p = "model.layers.";
  return n.rfind(p, 0) == 0 && std::stoi(n.substr(p.size())) >= kLayers;
}

// The MTP block of the released layout: the last decoder layer's tensors (a MoE layer) under layer 3,
// plus eh_proj [H, 2H], the three norms and the copies of the head and embedding [V, H].
void appendMtpBlock(std::map<std::string, moe::TensorBlob>& t) {
  const std::string last = "model.layers." + std::to_string(kLayers - 1) + ".";
  const std::string mtp = "model.layers." + std::to_string(kLayers) + ".";
  std::vector<moe::TensorBlob> added;
  for (const auto& [name, b] : t)
    if (name.rfind(last, 0) == 0) {
      moe::TensorBlob c = b;
      c.name = mtp + name.substr(last.size());
      added.push_back(std::move(c));
    }
  const int64_t H = 64, V = 512;
  added.push_back(bf16Blob(mtp + "eh_proj.weight", {H, 2 * H}));
  for (const char* n : {"enorm.weight", "hnorm.weight", "shared_head.norm.weight"}) added.push_back(bf16Blob(mtp + n, {H}));
  added.push_back(bf16Blob(mtp + "shared_head.head.weight", {V, H}));
  added.push_back(bf16Blob(mtp + "embed_tokens.weight", {V, H}));
  for (auto& b : added) t[b.name] = std::move(b);
}

// Tensors of the MTP block appendMtpBlock writes.
int mtpTensorCount() {
  moe::SafetensorsFile f((kV3 / "model.safetensors").string());
  int n = 0;
  for (const auto& [name, info] : f.tensors()) n += name.rfind("model.layers." + std::to_string(kLayers - 1) + ".", 0) == 0;
  return n + 6;
}

void copyWithMtp(const fs::path& dir, const std::function<void(json&)>& editConfig = {},
                 const moe::test::TensorEdit& more = {}) {
  moe::test::copyCheckpoint(kV3, dir, editConfig, [&](auto& t) {
    appendMtpBlock(t);
    if (more) more(t);
  });
}

}  // namespace

TEST_CASE("deepseek_v3's MTP block loads, outside the decoder layers, and changes nothing", "[deepseek][mtp]") {
  moe::test::ScratchDir s("deepseek");
  copyWithMtp(s.dir);
  auto model = moe::Model::open(s.dir.string(), moe::test::runtime("fp32"));
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
  CHECK(mtp == mtpTensorCount());
  CHECK(maxRelativeError(model->forward(moe::test::fixtureInputIds(kV3)), moe::test::fixtureLogits(kV3)) <= 1e-3);
}

TEST_CASE("deepseek_v3's MTP tensors are checked against config.json", "[deepseek][mtp]") {
  moe::test::ScratchDir s("deepseek");
  SECTION("an MTP expert beyond n_routed_experts") {
    copyWithMtp(s.dir, {}, [](auto& t) {
      t["model.layers.3.mlp.experts.16.gate_proj.weight"] = bf16Blob("model.layers.3.mlp.experts.16.gate_proj.weight", {32, 64});
    });
    CHECK_THAT(modelOpenError(s.dir), moe::test::Contains("'model.layers.3.mlp.experts.16.gate_proj.weight'"));
  }
  SECTION("an MTP router for another expert count") {
    copyWithMtp(s.dir, {}, [](auto& t) { t["model.layers.3.mlp.gate.weight"] = bf16Blob("model.layers.3.mlp.gate.weight", {8, 64}); });
    const std::string e = modelOpenError(s.dir);
    CHECK_THAT(e, moe::test::Contains("'model.layers.3.mlp.gate.weight' has shape [8, 64], expected [16, 64]"));
  }
  SECTION("eh_proj of the wrong width") {
    copyWithMtp(s.dir, {}, [](auto& t) { t["model.layers.3.eh_proj.weight"] = bf16Blob("model.layers.3.eh_proj.weight", {64, 64}); });
    CHECK_THAT(modelOpenError(s.dir), moe::test::Contains("'model.layers.3.eh_proj.weight' has shape [64, 64], expected [64, 128]"));
  }
  SECTION("a config that declares no MTP layers") {
    copyWithMtp(s.dir, [](json& c) { c["num_nextn_predict_layers"] = 0; });
    CHECK_THAT(modelOpenError(s.dir), moe::test::Contains("'model.layers.3."));
  }
  SECTION("the count spelled num_mtp_layers, or absent (transformers' default: 1)") {
    copyWithMtp(s.dir, [](json& c) {
      c.erase("num_nextn_predict_layers");
      c["num_mtp_layers"] = 1;
    });
    CHECK_NOTHROW(moe::Model::open(s.dir.string(), moe::test::runtime("fp32")));
    fs::remove_all(s.dir);
    fs::create_directories(s.dir);
    copyWithMtp(s.dir, [](json& c) { c.erase("num_nextn_predict_layers"); });
    CHECK_NOTHROW(moe::Model::open(s.dir.string(), moe::test::runtime("fp32")));
  }
  SECTION("tensors of a second MTP layer the config does not declare") {
    copyWithMtp(s.dir, {}, [](auto& t) { t["model.layers.4.enorm.weight"] = bf16Blob("model.layers.4.enorm.weight", {64}); });
    CHECK_THAT(modelOpenError(s.dir), moe::test::Contains("'model.layers.4.enorm.weight'"));
  }
}

TEST_CASE("a merged deepseek_v3 export drops the MTP block and says so", "[deepseek][mtp][export]") {
  const auto rt = moe::test::runtime("fp32");
  moe::test::ScratchDir src("deepseek");
  copyWithMtp(src.dir);
  auto model = moe::Model::open(src.dir.string(), rt);
  moe::ExportOptions opt;
  opt.fingerprint = "test";
  for (auto format : {moe::ExportFormat::Compact, moe::ExportFormat::ExpertMap}) {
    DYNAMIC_SECTION(moe::exportFormatName(format)) {
      moe::test::ScratchDir s("deepseek");
      const auto res = moe::exportMergedModel(*model, moe::test::referenceMergePlan(kV3, format), (s.dir / "out").string(), opt);
      auto store = moe::TensorStore::openFolder(res.folder);
      int mtp = 0;
      for (const auto& n : store->names()) mtp += isMtpName(n);
      CHECK(mtp == 0);
      CHECK(moe::test::readJsonFile(fs::path(res.folder) / "config.json")["num_nextn_predict_layers"] == 0);
      std::ifstream card(fs::path(res.folder) / "README.md");
      const std::string text((std::istreambuf_iterator<char>(card)), std::istreambuf_iterator<char>());
      CHECK_THAT(text, moe::test::Contains("multi-token-prediction (MTP) block is not included"));
      CHECK_NOTHROW(moe::Model::open(res.folder, rt));
    }
  }
  SECTION("an export that merges nothing keeps it") {
    moe::MergePlan plan = moe::test::referenceMergePlan(kV3, moe::ExportFormat::ExpertMap);
    for (auto& lp : plan.layers) lp = moe::keepLayerPlan(lp.moeIndex, lp.numExperts);
    moe::test::ScratchDir s("deepseek");
    const auto res = moe::exportMergedModel(*model, plan, (s.dir / "out").string(), opt);
    auto store = moe::TensorStore::openFolder(res.folder);
    int mtp = 0;
    for (const auto& n : store->names()) mtp += isMtpName(n);
    CHECK(mtp == mtpTensorCount());
    CHECK(moe::test::readJsonFile(fs::path(res.folder) / "config.json")["num_nextn_predict_layers"] == 1);
  }
}

TEST_CASE("deepseek_v32's indexer mask is what makes its logits transformers'", "[deepseek][v32]") {
  const auto rt = moe::test::runtime("fp32");
  const at::Tensor ids = moe::test::fixtureInputIds(kV32), ref = moe::test::fixtureLogits(kV32);
  CHECK(maxRelativeError(moe::Model::open(kV32.string(), rt)->forward(ids), ref) <= 1e-3);
  moe::test::ScratchDir s("deepseek");
  SECTION("keeping every key (index_topk >= T) gives other logits") {
    moe::test::copyCheckpoint(kV32, s.dir, [](json& c) { c["index_topk"] = 64; });
    CHECK(maxRelativeError(moe::Model::open(s.dir.string(), rt)->forward(ids), ref) > 1e-2);
  }
  SECTION("mlp_layer_types, when present, decides the MoE layers") {
    moe::test::copyCheckpoint(kV32, s.dir, [](json& c) { c["mlp_layer_types"] = {"dense", "sparse", "sparse"}; });
    CHECK(maxRelativeError(moe::Model::open(s.dir.string(), rt)->forward(ids), ref) <= 1e-3);
    moe::test::copyCheckpoint(kV32, s.dir, [](json& c) { c["mlp_layer_types"] = {"sparse", "sparse", "sparse"}; });
    CHECK_THAT(modelOpenError(s.dir), moe::test::Contains("'model.layers.0.mlp.gate.weight'"));
    moe::test::copyCheckpoint(kV32, s.dir, [](json& c) { c["mlp_layer_types"] = {"dense", "sparse"}; });
    CHECK_THAT(modelOpenError(s.dir), moe::test::Contains("mlp_layer_types"));
  }
  SECTION("an indexer tensor of the wrong shape is named") {
    moe::test::copyCheckpoint(kV32, s.dir, {}, [](auto& t) {
      t["model.layers.1.self_attn.indexer.k_norm.bias"] = bf16Blob("model.layers.1.self_attn.indexer.k_norm.bias", {8});
    });
    CHECK_THAT(modelOpenError(s.dir), moe::test::Contains("'model.layers.1.self_attn.indexer.k_norm.bias' has shape [8], expected [16]"));
  }
  SECTION("config fields the indexer cannot work without") {
    moe::test::copyCheckpoint(kV32, s.dir, [](json& c) { c["q_lora_rank"] = nullptr; });
    CHECK_THAT(modelOpenError(s.dir), moe::test::Contains("q_lora_rank"));
    moe::test::copyCheckpoint(kV32, s.dir, [](json& c) { c["index_head_dim"] = 4; });
    CHECK_THAT(modelOpenError(s.dir), moe::test::Contains("index_head_dim (4) must be at least qk_rope_head_dim (8)"));
  }
}
