// MiniMax-M2 (minimax_m2) and ERNIE-4.5 MoE (ernie4_5_moe) beyond what every fixture is tested for
// (forward, analysis and merge against transformers in test_forward / test_analysis / test_merge):
// the config.json conventions transformers accepts for them, ERNIE's MoE-layer rule and moe_norm_min
// clamp (transformers' Ernie4_5_MoeDecoderLayer / Ernie4_5_MoeTopKRouter as the spec), and a MiniMax
// block compacted to one expert, which its ungrouped sigmoid routing allows.
#include "tests/catch_torch.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/arch/architecture.h"
#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/io/h5file.h"
#include "core/merge/merge.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kTiny = fs::path(MOESCOPE_TEST_DATA) / "hf-tiny";

struct Scratch {
  fs::path dir;
  Scratch() {
    static int counter = 0;
    dir = fs::temp_directory_path() / ("moescope-test-mm-ernie-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

json readJson(const fs::path& file) {
  json j;
  std::ifstream(file) >> j;
  return j;
}

// The fixture `arch` in `dir` with its config.json edited (tensors copied unchanged).
void copyWithConfig(const std::string& arch, const fs::path& dir, const std::function<void(json&)>& edit) {
  json cfg = readJson(kTiny / arch / "config.json");
  edit(cfg);
  std::ofstream(dir / "config.json") << cfg.dump(2);
  fs::copy_file(kTiny / arch / "model.safetensors", dir / "model.safetensors");
}

std::unique_ptr<moe::Architecture> archOf(const json& cfg) {
  return moe::makeArchitecture(moe::ModelConfig::fromJson(cfg, "cfg"));
}

std::vector<int> moeLayersOf(const moe::Architecture& a) {
  std::vector<int> out;
  for (int l = 0; l < a.config().numLayers; ++l)
    if (a.isMoeLayer(l)) out.push_back(l);
  return out;
}

std::string errorOf(const std::function<void()>& f, moe::ErrorKind kind) {
  try {
    f();
  } catch (const moe::Error& e) {
    CHECK(e.kind() == kind);
    return e.what();
  }
  FAIL("no error");
  return "";
}

double relativeError(const at::Tensor& got, const at::Tensor& ref) {
  REQUIRE(got.sizes() == ref.sizes());
  const double scale = ref.abs().max().item<double>();
  return (got.to(at::kCPU, at::kFloat) - ref.to(at::kCPU, at::kFloat)).abs().max().item<double>() / scale;
}

at::Tensor referenceTensor(const std::string& arch, const std::string& name, bool ints = false) {
  moe::h5::File ref((kTiny / arch / "reference.h5").string(), moe::h5::File::Mode::Read);
  return ints ? moe::readIntTensor(ref, name) : moe::readFloatTensor(ref, name);
}

}  // namespace

TEST_CASE("ernie4_5_moe's MoE layers follow moe_layer_start_index / end_index / interval", "[ernie4_5_moe]") {
  json cfg = readJson(kTiny / "ernie4_5_moe" / "config.json");
  REQUIRE(cfg["num_hidden_layers"] == 4);
  // transformers: MoE where (l + 1) % interval == 0 and start <= l <= end (end -1: the last layer).
  CHECK((moeLayersOf(*archOf(cfg)) == std::vector<int>{1, 2}));  // the fixture: start 1, end 2
  cfg["moe_layer_end_index"] = -1;
  CHECK((moeLayersOf(*archOf(cfg)) == std::vector<int>{1, 2, 3}));
  cfg["moe_layer_start_index"] = 0;
  cfg["moe_layer_interval"] = 2;
  CHECK((moeLayersOf(*archOf(cfg)) == std::vector<int>{1, 3}));
  cfg.erase("moe_layer_start_index");  // transformers' defaults: start 1, end -1, interval 1
  cfg.erase("moe_layer_end_index");
  cfg.erase("moe_layer_interval");
  CHECK((moeLayersOf(*archOf(cfg)) == std::vector<int>{1, 2, 3}));
  cfg["moe_layer_interval"] = 0;
  CHECK_THAT(errorOf([&] { archOf(cfg); }, moe::ErrorKind::Config), moe::test::Contains("moe_layer_interval"));
}

TEST_CASE("ernie4_5_moe reads its own spellings and transformers' defaults", "[ernie4_5_moe][config]") {
  const json fixture = readJson(kTiny / "ernie4_5_moe" / "config.json");
  REQUIRE(!fixture.contains("num_experts_per_tok"));
  auto a = archOf(fixture);
  CHECK(a->numExperts() == fixture["moe_num_experts"].get<int64_t>());
  CHECK(a->topK() == fixture["moe_k"].get<int64_t>());
  CHECK(a->config().numExpertsKey == "moe_num_experts");
  CHECK(a->config().topKKey == "moe_k");

  SECTION("a missing or out-of-range moe_k is named") {
    json j = fixture;
    j.erase("moe_k");
    CHECK_THAT(errorOf([&] { archOf(j); }, moe::ErrorKind::Config), moe::test::Contains("moe_k is missing"));
    j["moe_k"] = 9;
    CHECK_THAT(errorOf([&] { archOf(j); }, moe::ErrorKind::Config), moe::test::Contains("moe_k is 9"));
  }
  SECTION("num_experts_per_tok, transformers' alias of moe_k, wins where both are present") {
    json j = fixture;
    j["num_experts_per_tok"] = 3;
    CHECK(archOf(j)->topK() == 3);
  }
  SECTION("tie_word_embeddings defaults to true, rms_norm_eps to 1e-5") {
    json j = fixture;
    j.erase("tie_word_embeddings");
    j.erase("rms_norm_eps");
    auto b = archOf(j);
    CHECK(b->lmHeadName() == "model.embed_tokens.weight");
    CHECK(b->config().rmsNormEps == 1e-5);
    j["tie_word_embeddings"] = false;
    CHECK(archOf(j)->lmHeadName() == "lm_head.weight");
  }
  SECTION("use_bias is refused") {
    json j = fixture;
    j["use_bias"] = true;
    CHECK_THAT(errorOf([&] { archOf(j); }, moe::ErrorKind::Unsupported), moe::test::Contains("use_bias"));
  }
}

TEST_CASE("ernie4_5_moe divides the routing weights by max(sum, moe_norm_min)", "[ernie4_5_moe][routing]") {
  // Three experts; the correction bias selects experts 1 and 2, whose probabilities are e^-40 / Z
  // each (Z = 1 + 2 e^-40): their sum lies below moe_norm_min = 1e-12, so each weight is p / 1e-12.
  moe::MoeBlock b;
  b.routerWeight = at::zeros({3, 2});
  b.correctionBias = at::tensor({0.0f, 10.0f, 10.0f});
  b.routing.topK = 2;
  b.routing.normalize = true;
  b.routing.normMin = 1e-12;
  const moe::Routing r = b.route(at::tensor({0.0f, -40.0f, -40.0f}).unsqueeze(0));
  const double p = std::exp(-40.0) / (1 + 2 * std::exp(-40.0));
  CHECK(std::set<int64_t>{r.indices[0][0].item<int64_t>(), r.indices[0][1].item<int64_t>()} == std::set<int64_t>{1, 2});
  for (int j = 0; j < 2; ++j) CHECK(r.weights[0][j].item<double>() == Approx(p / 1e-12).epsilon(1e-4));
  b.routing.normMin = 0.0;  // the plain renormalisation the other softmax routers use
  const moe::Routing plain = b.route(at::tensor({0.0f, -40.0f, -40.0f}).unsqueeze(0));
  for (int j = 0; j < 2; ++j) CHECK(plain.weights[0][j].item<double>() == Approx(0.5).epsilon(1e-6));
}

TEST_CASE("minimax_m2 reads partial_rotary_factor where transformers does", "[minimax_m2][config]") {
  const auto rt = moe::test::runtime("fp32");
  const at::Tensor ids = referenceTensor("minimax_m2", "input_ids", true);
  const at::Tensor logits = referenceTensor("minimax_m2", "logits");
  REQUIRE(readJson(kTiny / "minimax_m2" / "config.json")["rope_parameters"]["partial_rotary_factor"] == 0.5);
  SECTION("at the top level only (transformers 4 files)") {
    Scratch s;
    copyWithConfig("minimax_m2", s.dir, [](json& c) { c["rope_parameters"].erase("partial_rotary_factor"); });
    CHECK(relativeError(moe::Model::open(s.dir.string(), rt)->forward(ids), logits) <= 1e-5);
  }
  SECTION("rope_parameters first") {
    Scratch s;
    copyWithConfig("minimax_m2", s.dir, [](json& c) { c["partial_rotary_factor"] = 1.0; });
    CHECK(relativeError(moe::Model::open(s.dir.string(), rt)->forward(ids), logits) <= 1e-5);
  }
  SECTION("absent: the whole head rotates, which is another model") {
    Scratch s;
    copyWithConfig("minimax_m2", s.dir, [](json& c) {
      c["rope_parameters"].erase("partial_rotary_factor");
      c.erase("partial_rotary_factor");
    });
    CHECK(relativeError(moe::Model::open(s.dir.string(), rt)->forward(ids), logits) > 1e-3);
  }
  SECTION("factors that give no even rotary dimension are refused") {
    json c = readJson(kTiny / "minimax_m2" / "config.json");
    for (double f : {0.0, 1.5, 0.1875}) {  // head_dim 16: 0.1875 rotates 3 dims
      INFO(f);
      c["rope_parameters"]["partial_rotary_factor"] = f;
      CHECK_THAT(errorOf([&] { archOf(c); }, moe::ErrorKind::Config), moe::test::Contains("partial_rotary_factor"));
    }
  }
}

TEST_CASE("a minimax_m2 block compacts down to one expert", "[minimax_m2][merge]") {
  // Sigmoid top-k without groups needs no minimum expert count: with K = 1 every token gets the one
  // merged expert with weight 1 (the renormalised single score).
  auto model = moe::Model::open((kTiny / "minimax_m2").string(), moe::test::runtime("fp32"));
  const moe::MoeBlock block = model->moeBlock(0);
  const int64_t E = block.numExperts();
  const std::vector<int64_t> labels(static_cast<size_t>(E), 0);
  const std::vector<double> coeff(static_cast<size_t>(E), 1.0 / static_cast<double>(E));
  const moe::MoeBlock one = moe::mergeCompact(block, labels, 1, coeff, coeff);
  CHECK(one.routing.rule == moe::RoutingRule::SigmoidTopK);
  CHECK(one.topK() == 1);
  const at::Tensor x = at::randn({5, block.hiddenSize()}, at::TensorOptions().dtype(at::kFloat));
  CHECK(relativeError(one.forward(x), one.applySlot(0, x)) <= 1e-6);
}
