// The per-architecture hooks every registered architecture supplies (core/arch/architecture.h):
// synth defaults that load and run, disk names that match checkpoints transformers wrote
// (tests/data/hf-tiny), transformers classes that match those checkpoints' config.json, and the
// compact-config rewrite of group-limited routing.
#include "tests/catch_torch.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/arch/architecture.h"
#include "core/engine/model.h"
#include "core/engine/synth.h"
#include "core/error.h"
#include "core/merge/expert_map_modeling.h"
#include "core/merge/layout.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string fixture(const std::string& arch) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch; }

// The transformers-written fixture folders: one per registered architecture, plus quantized
// variants (e.g. deepseek_v3-fp8) of some.
std::vector<std::string> fixtureArchitectures() {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(std::string(MOESCOPE_TEST_DATA) + "/hf-tiny"))
    if (fs::exists(entry.path() / "config.json")) out.push_back(entry.path().filename().string());
  return out;
}

struct Scratch {
  fs::path dir;
  Scratch() {
    static int counter = 0;
    dir = fs::temp_directory_path() /
          ("moescope-test-arch-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
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

// The model_type of a fixture folder (its name may add a quantization suffix).
std::string modelTypeOf(const std::string& folder) {
  return readJson(fs::path(fixture(folder)) / "config.json")["model_type"].get<std::string>();
}

}  // namespace

TEST_CASE("every registered architecture has a fixture written by transformers", "[arch]") {
  const auto archs = moe::supportedArchitectures();
  std::set<std::string> fixtureTypes;
  for (const auto& f : fixtureArchitectures()) fixtureTypes.insert(modelTypeOf(f));
  CHECK(std::set<std::string>(archs.begin(), archs.end()) == fixtureTypes);
}

TEST_CASE("synth with default options writes a model that loads and runs, for every architecture", "[arch][synth]") {
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : moe::supportedArchitectures()) {
    DYNAMIC_SECTION(arch) {
      Scratch scratch;
      moe::SynthSpec spec;  // only the architecture is chosen
      spec.arch = arch;
      REQUIRE_NOTHROW(moe::writeSyntheticModel(spec, scratch.dir.string()));
      const json cfg = readJson(scratch.dir / "config.json");
      CHECK(cfg["model_type"] == arch);
      CHECK(cfg["architectures"] == json::array({moe::transformersCausalLMClass(arch)}));
      auto model = moe::Model::open(scratch.dir.string(), rt);
      CHECK(model->arch().name() == arch);
      CHECK(model->arch().numExperts() == spec.experts);
      CHECK(model->arch().topK() == spec.topK);
      CHECK(model->config().numLayers == spec.layers);
      CHECK(model->config().hiddenSize == spec.hidden);
      CHECK(model->config().numHeads == spec.heads);
      CHECK(!model->moeLayers().empty());
      const at::Tensor ids = at::arange(0, 8, at::kLong).unsqueeze(0) * 37 % spec.vocab;
      at::Tensor logits;
      REQUIRE_NOTHROW(logits = model->forward(ids));
      CHECK(logits.sizes() == at::IntArrayRef({1, 8, spec.vocab}));
      CHECK(logits.isfinite().all().item<bool>());
    }
  }
}

TEST_CASE("synth without an architecture writes the first registered one", "[arch][synth]") {
  Scratch scratch;
  moe::writeSyntheticModel(moe::SynthSpec{}, scratch.dir.string());
  CHECK(readJson(scratch.dir / "config.json")["model_type"] == moe::supportedArchitectures().front());
}

TEST_CASE("synth keeps an explicit kv-head count and refuses one MLA cannot take", "[arch][synth]") {
  {
    Scratch scratch;
    moe::SynthSpec spec;
    spec.arch = "qwen3_moe";
    spec.kvHeads = 4;
    moe::writeSyntheticModel(spec, scratch.dir.string());
    CHECK(readJson(scratch.dir / "config.json")["num_key_value_heads"] == 4);
  }
  Scratch scratch;
  moe::SynthSpec spec;
  spec.arch = "deepseek_v3";
  spec.kvHeads = 2;  // heads = 8: grouped-query attention, which multi-head latent attention has not
  try {
    moe::writeSyntheticModel(spec, scratch.dir.string());
    FAIL("synth accepted deepseek_v3 with kv-heads 2 of 8 heads");
  } catch (const moe::Error& e) {
    CHECK(e.kind() == moe::ErrorKind::InvalidArgument);
    CHECK_THAT(e.what(), moe::test::Contains("kv-heads equal to heads (8), got 2"));
  }
  CHECK(!fs::exists(scratch.dir));  // refused before anything was written
}

TEST_CASE("each architecture's transformers class is the one its transformers checkpoint names", "[arch]") {
  for (const std::string& arch : fixtureArchitectures()) {
    DYNAMIC_SECTION(arch) {
      const json cfg = readJson(fs::path(fixture(arch)) / "config.json");
      CHECK(cfg["architectures"] == json::array({moe::transformersCausalLMClass(cfg["model_type"].get<std::string>())}));
    }
  }
  CHECK_THROWS_AS(moe::transformersCausalLMClass("llama"), moe::Error);
}

TEST_CASE("the disk names of every MoE block are the routed tensors of the transformers checkpoint", "[arch]") {
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : fixtureArchitectures()) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      for (int layer : model->moeLayers()) {
        INFO("layer " << layer);
        const auto lay = moe::MoeDiskLayout::of(model->arch(), layer);
        std::set<std::string> named;
        // A quantized checkpoint stores a name's codes with their scales (storedNamesOf).
        auto addStored = [&](const std::string& n) {
          for (const auto& stored : model->store().storedNamesOf(n)) named.insert(stored);
        };
        for (const auto& n : lay.routerNames()) addStored(n);
        for (const auto& n : lay.expertNames(model->arch().numSlots(layer))) addStored(n);
        // Every name is a tensor of the checkpoint, and every tensor of the block is named, except
        // the shared expert's (export copies those unchanged).
        const std::string prefix = model->arch().moePrefix(layer);
        std::set<std::string> stored;
        for (const auto& n : model->store().names())
          if (n.rfind(prefix, 0) == 0 && n.find("shared_expert") == std::string::npos) stored.insert(n);
        CHECK(named == stored);
      }
    }
  }
}

// DeepSeek-V3's fixture routes 16 experts in n_group = 4 groups, topk_group = 2, top-k 4. Group-limited
// routing needs K to split into n_group groups of at least 2 experts with top-k <= topk_group x K / n_group;
// otherwise one group holds everything (n_group = topk_group = 1).
TEST_CASE("a compact config of group-limited routing keeps the groups only where K still splits", "[arch][export]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("deepseek_v3"), rt);
  const moe::Architecture& arch = model->arch();
  REQUIRE(arch.numExperts() == 16);
  REQUIRE(arch.topK() == 4);
  struct Case {
    int64_t K, nGroup, topkGroup;
  };
  for (const Case& c : {Case{12, 4, 2}, Case{8, 4, 2}, Case{6, 1, 1}, Case{4, 1, 1}, Case{16, 4, 2}}) {
    INFO("K = " << c.K);
    json cfg = model->config().raw();
    arch.rewriteCompactConfig(cfg, c.K);
    CHECK(cfg["n_group"] == c.nGroup);
    CHECK(cfg["topk_group"] == c.topkGroup);
    json rest = cfg, source = model->config().raw();
    rest.erase("n_group");
    rest.erase("topk_group");
    source.erase("n_group");
    source.erase("topk_group");
    CHECK(rest == source);  // nothing else is the hook's business
  }
}

// GLM-4.5's fixture: 8 experts in n_group = 2 groups, topk_group = 1, top-k 2 (the rule of the test above).
TEST_CASE("glm4_moe's compact config keeps its groups only where K still splits", "[arch][export][glm4_moe]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("glm4_moe"), rt);
  const moe::Architecture& arch = model->arch();
  REQUIRE(arch.numExperts() == 8);
  REQUIRE(arch.topK() == 2);
  struct Case {
    int64_t K, nGroup, topkGroup;
  };
  for (const Case& c : {Case{8, 2, 1}, Case{6, 2, 1}, Case{4, 2, 1}, Case{3, 1, 1}, Case{2, 1, 1}}) {
    INFO("K = " << c.K);
    json cfg = model->config().raw();
    arch.rewriteCompactConfig(cfg, c.K);
    CHECK(cfg["n_group"] == c.nGroup);
    CHECK(cfg["topk_group"] == c.topkGroup);
    cfg.erase("n_group");
    cfg.erase("topk_group");
    json source = model->config().raw();
    source.erase("n_group");
    source.erase("topk_group");
    CHECK(cfg == source);
  }
}

TEST_CASE("softmax-routed architectures change nothing beyond the expert count in a compact config", "[arch][export]") {
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : fixtureArchitectures()) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      // Group-limited routers (DeepSeek-V3, GLM-4.5) rewrite n_group / topk_group: tested above.
      if (model->moeBlock(0).routing.rule == moe::RoutingRule::SigmoidGroupLimited) continue;
      json cfg = model->config().raw();
      model->arch().rewriteCompactConfig(cfg, 2);
      CHECK(cfg == model->config().raw());
    }
  }
}
