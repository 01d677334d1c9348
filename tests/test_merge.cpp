// Merging, pruning, plans, export and the memory preview, on the tiny fixtures of every architecture.
// Reference: hcsmoe_reference.h5's merged_tied_average_half (the paper's tied merge, computed with
// transformers). Tolerance for the reference: max abs error <= 1e-3 x max |reference|.
#include "tests/catch_torch.h"
#include "tests/fixtures.h"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/eval/evaluate.h"
#include "core/eval/merge_metrics.h"
#include "core/io/h5file.h"
#include "core/merge/export.h"
#include "core/merge/expert_map_modeling.h"
#include "core/merge/layout.h"
#include "core/merge/memory.h"
#include "core/merge/merge.h"
#include "core/merge/plan.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string fileText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::vector<std::string> kArchitectures = moe::test::fixtureArchitectures();
const char* kFingerprint = "test-fingerprint";

std::string fixture(const std::string& arch) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch; }

double relativeError(const at::Tensor& got, const at::Tensor& ref) {
  REQUIRE(got.sizes() == ref.sizes());
  const double scale = ref.abs().max().item<double>();
  return (got.to(at::kCPU, at::kFloat) - ref.to(at::kCPU, at::kFloat)).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

// A fresh scratch folder per test run, removed at the end.
struct Scratch {
  fs::path dir;
  Scratch() {
    dir = fs::temp_directory_path() / ("moescope-test-merge-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir, ec);
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

struct Reference {
  std::vector<std::vector<int64_t>> labels;     // per MoE block
  std::vector<std::vector<double>> frequency;  // per MoE block
};

Reference readReference(const std::string& arch) {
  moe::h5::File ref(fixture(arch) + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
  const json groups = json::parse(ref.readStringAttribute("merged_tied_average_half", "groups"));
  Reference r;
  const auto layers = ref.children("layers");
  r.labels.resize(layers.size());
  r.frequency.resize(layers.size());
  for (const auto& j : layers) {
    const size_t idx = std::stoul(j);
    const std::string module = ref.readStringAttribute("layers/" + j, "module");
    REQUIRE(groups.contains(module));
    r.labels[idx] = groups[module].get<std::vector<int64_t>>();
    const auto f = ref.readDouble("layers/" + j + "/usage_frequency");
    r.frequency[idx] = f.data;
  }
  return r;
}

moe::MergePlan referencePlan(const Reference& r, moe::ExportFormat format, moe::RouterMode router) {
  moe::MergePlan plan;
  plan.modelFingerprint = kFingerprint;
  plan.format = format;
  plan.method = "HC-SMoE reference groups";
  for (size_t j = 0; j < r.labels.size(); ++j)
    plan.layers.push_back(moe::mergeLayerPlan(static_cast<int>(j), r.labels[j], moe::MergeStrategy::FrequencyWeighted,
                                              r.frequency[j], router));
  return plan;
}

at::Tensor inputIds(const std::string& arch) {
  moe::h5::File ref(fixture(arch) + "/reference.h5", moe::h5::File::Mode::Read);
  return moe::readIntTensor(ref, "input_ids");
}

// The in-memory merged model's logits, with the merged weights rounded to bf16 as the export stores them.
at::Tensor mergedLogits(moe::Model& model, const moe::MergePlan& plan, moe::MergeSemantics semantics,
                        const at::Tensor& ids) {
  moe::ForwardOptions opts;
  auto apply = moe::planOverride(plan, semantics);
  opts.moeOverride = [&](int j, moe::MoeBlock& b) {
    const moe::LayerPlan* lp = plan.find(j);
    if (!lp || lp->isIdentity()) return;
    const moe::MoeBlock source = b;
    apply(j, b);
    // As the export stores it: BF16 rounding, or a quantized source's re-quantization.
    b = moe::storedMergedBlock(model, j, source, b, *lp, semantics);
  };
  return model.forward(ids, nullptr, opts);
}

std::set<std::string> namesOf(const moe::TensorStore& s) {
  auto v = s.names();
  return {v.begin(), v.end()};
}

moe::ExportOptions exportOptions() {
  moe::ExportOptions o;
  o.fingerprint = kFingerprint;
  return o;
}

std::string lastError;  // the message of the last error errorKindOf caught

template <typename F>
moe::ErrorKind errorKindOf(F&& f) {
  try {
    f();
  } catch (const moe::Error& e) {
    lastError = e.what();
    return e.kind();
  }
  FAIL("no moe::Error was thrown");
  return moe::ErrorKind::Io;
}

}  // namespace

TEST_CASE("tied merge with the reference groups reproduces transformers' merged logits", "[merge][reference]") {
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : kArchitectures) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      const Reference r = readReference(arch);
      REQUIRE(r.labels.size() == model->moeLayers().size());
      const moe::MergePlan plan = referencePlan(r, moe::ExportFormat::ExpertMap, moe::RouterMode::Average);
      moe::checkPlanForModel(plan, *model, kFingerprint);
      moe::ForwardOptions opts;
      opts.moeOverride = moe::planOverride(plan, moe::MergeSemantics::Tied);
      at::Tensor logits = model->forward(inputIds(arch), nullptr, opts);
      moe::h5::File ref(fixture(arch) + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
      CHECK(relativeError(logits, moe::readFloatTensor(ref, "merged_tied_average_half/logits")) <= 1e-3);
    }
  }
}

TEST_CASE("merge coefficients, dominant members and prune lists", "[merge]") {
  const std::vector<int64_t> labels{0, 1, 0, 1, 2};
  auto c = moe::mergeCoefficients(labels, 3, moe::MergeStrategy::FrequencyWeighted, {0.3, 0.0, 0.1, 0.0, 0.6});
  CHECK(c[0] == Approx(0.75));
  CHECK(c[2] == Approx(0.25));
  CHECK(c[1] == Approx(0.5));  // group never used: plain average
  CHECK(c[3] == Approx(0.5));
  CHECK(c[4] == Approx(1.0));
  c = moe::mergeCoefficients(labels, 3, moe::MergeStrategy::Average);
  CHECK(c[0] == Approx(0.5));
  at::Tensor rep = at::tensor({0.0, 0.0, 10.0, 0.0, 1.0, 0.0, 11.0, 0.0, 5.0, 5.0}, at::kDouble).view({5, 2});
  // Group 0 = rows {0, 2}: both equally far from their mean -> lower index.
  CHECK((moe::dominantMembers(labels, 3, rep) == std::vector<int64_t>{0, 1, 4}));
  c = moe::mergeCoefficients(labels, 3, moe::MergeStrategy::Dominant, {}, {2, 3, 4});
  CHECK((c == std::vector<double>{0, 0, 1, 1, 1}));
  CHECK((moe::fPruneKeep({0.1, 0.4, 0.2, 0.4, 0.0}, 2) == std::vector<int64_t>{1, 3}));
  CHECK((moe::reapKeep({0.1, 0.4, 0.2, 0.3, 0.0}, 3) == std::vector<int64_t>{1, 2, 3}));
  CHECK(errorKindOf([] { moe::topKExperts({0.1, 0.2}, 3); }) == moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([] { moe::topKExperts({0.1, 0.2}, 0); }) == moe::ErrorKind::InvalidArgument);
}

TEST_CASE("compact merge: one router row per group, top-k capped at K", "[merge]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("deepseek_v3"), rt);
  moe::MoeBlock block = model->moeBlock(0);
  const std::vector<int64_t> labels{0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7};
  std::vector<double> freq(16, 0.0);
  freq[0] = 1.0;  // group 0 is all expert 0 under the frequency router
  auto lp = moe::mergeLayerPlan(0, labels, moe::MergeStrategy::Average, freq, moe::RouterMode::FrequencyWeighted);
  moe::MoeBlock m = moe::applyLayerPlan(block, lp, moe::MergeSemantics::Compact);
  CHECK(m.numExperts() == 8);
  CHECK(m.numSlots() == 8);
  CHECK(m.expertSlot.empty());
  CHECK(m.correctionBias.size(0) == 8);
  CHECK(at::allclose(m.routerWeight[0], block.routerWeight[0]));
  CHECK(at::allclose(m.routerWeight[1], (block.routerWeight[2] + block.routerWeight[3]) / 2));  // zero-frequency group
  CHECK(at::allclose(m.gate[1], (block.gate[2] + block.gate[3]) / 2));
  CHECK(m.routing.nGroup == 4);  // 8 experts still split into 4 groups of 2
  auto pruned = moe::pruneCompact(block, {1, 4, 9, 15});
  CHECK(pruned.numExperts() == 4);
  CHECK(pruned.topK() == 4);
  CHECK(pruned.routing.nGroup == 1);  // 4 experts cannot form 4 groups of 2
  CHECK(at::equal(pruned.routerWeight[2], block.routerWeight[9]));
  CHECK(at::equal(pruned.correctionBias[3], block.correctionBias[15]));
  CHECK(at::equal(pruned.down[1], block.down[4]));

  moe::MoeBlock tied = moe::applyLayerPlan(block, lp, moe::MergeSemantics::Tied);
  CHECK(tied.numExperts() == 16);
  CHECK(tied.numSlots() == 8);
  CHECK(tied.expertSlot == labels);
  CHECK(at::equal(tied.routerWeight, block.routerWeight));
}

TEST_CASE("merge plans round-trip through JSON and reject bad input", "[merge][plan]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("mixtral"), rt);
  const Reference r = readReference("mixtral");
  moe::MergePlan plan = referencePlan(r, moe::ExportFormat::Compact, moe::RouterMode::FrequencyWeighted);
  plan.calibrationFingerprint = "calib";
  plan.layers[1] = moe::pruneLayerPlan(1, 8, moe::fPruneKeep(r.frequency[1], 4), moe::MergeStrategy::PruneFrequency,
                                       r.frequency[1]);
  plan.layers[2] = moe::keepLayerPlan(2, 8);
  Scratch scratch;
  const std::string path = (scratch.dir / "plan.json").string();
  plan.save(path);
  const moe::MergePlan back = moe::MergePlan::load(path);
  CHECK(back.toJson() == plan.toJson());
  CHECK(back.layers[1].kept == plan.layers[1].kept);
  CHECK(back.layers[0].router == moe::RouterMode::FrequencyWeighted);
  moe::checkPlanForModel(back, *model, kFingerprint);

  // Another model's plan.
  CHECK(errorKindOf([&] { moe::checkPlanForModel(back, *model, "another-model"); }) == moe::ErrorKind::Stale);
  // A plan for a block with 12 experts applied to Mixtral's 8.
  moe::MergePlan wrongCount = plan;
  wrongCount.layers = {moe::mergeLayerPlan(0, {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}, moe::MergeStrategy::Average)};
  CHECK(errorKindOf([&] { moe::checkPlanForModel(wrongCount, *model, kFingerprint); }) == moe::ErrorKind::InvalidArgument);
  moe::MergePlan noBlock = plan;
  noBlock.layers = {moe::keepLayerPlan(7, 8)};
  CHECK(errorKindOf([&] { moe::checkPlanForModel(noBlock, *model, kFingerprint); }) == moe::ErrorKind::InvalidArgument);

  auto parse = [&](const std::function<void(json&)>& edit) {
    json j = plan.toJson();
    edit(j);
    moe::MergePlan::fromJson(j, "edited plan");
  };
  // K larger than the experts, K = 0, labels out of range, wrong label count, empty group.
  CHECK(errorKindOf([&] { parse([](json& j) { j["layers"][0]["num_groups"] = 9; }); }) == moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j["layers"][0]["num_groups"] = 0; }); }) == moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j["layers"][0]["groups"] = json::array(); }); }) ==
        moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j["layers"][0]["groups"][3] = 7; j["layers"][0]["num_groups"] = 4; }); }) ==
        moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j["layers"][0]["groups"] = {0, 1, 2, 3}; }); }) ==
        moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j["layers"][0]["num_groups"] = 5; }); }) == moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j["layers"][1]["kept"] = json::array(); j["layers"][1]["num_groups"] = 0; }); }) ==
        moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j["layers"][1]["kept"] = {0, 1, 2, 3, 4, 5, 6, 7, 8}; j["layers"][1].erase("num_groups"); }); }) ==
        moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j["layers"][0]["strategy"] = "magic"; }); }) == moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j["format"] = "expert-map"; }); }) == moe::ErrorKind::InvalidArgument);
  CHECK(errorKindOf([&] { parse([](json& j) { j.erase("model_fingerprint"); }); }) == moe::ErrorKind::Format);
  CHECK(errorKindOf([&] { parse([](json& j) { j["moescope_merge_plan"] = 99; }); }) == moe::ErrorKind::Format);
  CHECK(errorKindOf([] { moe::mergeLayerPlan(0, {}, moe::MergeStrategy::Average); }) == moe::ErrorKind::InvalidArgument);
}

TEST_CASE("export -> reload -> forward equals the in-memory merged model", "[merge][export]") {
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : kArchitectures) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      const Reference r = readReference(arch);
      const at::Tensor ids = inputIds(arch);
      Scratch scratch;

      SECTION("compact, frequency-weighted router") {
        const moe::MergePlan plan = referencePlan(r, moe::ExportFormat::Compact, moe::RouterMode::FrequencyWeighted);
        const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / "compact").string(), exportOptions());
        auto back = moe::Model::open(res.folder, rt);
        const int64_t K = plan.layers[0].numGroups;
        CHECK(back->arch().numExperts() == K);
        CHECK(back->arch().topK() == std::min(model->arch().topK(), K));
        at::Tensor want = mergedLogits(*model, plan, moe::MergeSemantics::Compact, ids);
        CHECK(relativeError(back->forward(ids), want) <= 1e-5);
        // The memory preview predicted exactly what was written.
        const moe::MemoryPreview mem = moe::previewMemory(*model, plan);
        int64_t bytes = 0, params = 0;
        for (const auto& n : back->store().names()) {
          bytes += static_cast<int64_t>(back->store().get(n).nbytes);
          params += moe::storedTensor(back->store(), n).params();  // a quantized tensor's scales hold none
        }
        CHECK(mem.bytesAfter == bytes);
        CHECK(mem.paramsAfter == params);
        CHECK(mem.bytesAfter < mem.bytesBefore);
        CHECK((scratch.entries() == std::vector<std::string>{"compact"}));  // no temporary folder left
        // A standard checkpoint: no custom code.
        CHECK_FALSE(json::parse(fileText(fs::path(res.folder) / "config.json")).contains("auto_map"));
        CHECK_FALSE(fs::exists(fs::path(res.folder) / moe::kExpertMapModelingFile));
      }

      SECTION("compact, F-prune") {
        moe::MergePlan plan;
        plan.modelFingerprint = kFingerprint;
        for (size_t j = 0; j < r.labels.size(); ++j) {
          const int64_t E = static_cast<int64_t>(r.labels[j].size());
          plan.layers.push_back(moe::pruneLayerPlan(static_cast<int>(j), E, moe::fPruneKeep(r.frequency[j], E / 2),
                                                    moe::MergeStrategy::PruneFrequency));
        }
        const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / "pruned").string(), exportOptions());
        auto back = moe::Model::open(res.folder, rt);
        at::Tensor want = mergedLogits(*model, plan, moe::MergeSemantics::Compact, ids);
        CHECK(relativeError(back->forward(ids), want) <= 1e-5);
      }

      SECTION("expert-map, a different K per block, sharded") {
        moe::MergePlan plan = referencePlan(r, moe::ExportFormat::ExpertMap, moe::RouterMode::Average);
        // Block 1 merges only experts 0 and 1 (K = E - 1); a third block, where there is one, stays unmerged.
        const int64_t E = static_cast<int64_t>(r.labels[1].size());
        std::vector<int64_t> labels{0};
        for (int64_t e = 1; e < E; ++e) labels.push_back(e - 1);
        plan.layers[1] = moe::mergeLayerPlan(1, labels, moe::MergeStrategy::Average);
        if (plan.layers.size() > 2) plan.layers[2] = moe::keepLayerPlan(2, static_cast<int64_t>(r.labels[2].size()));
        moe::ExportOptions opt = exportOptions();
        // A quarter of the source's stored size: several shards for every fixture, however small.
        opt.shardBytes = static_cast<int64_t>(fs::file_size(fs::path(fixture(arch)) / "model.safetensors") / 4);
        const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / "map").string(), opt);
        CHECK(fs::exists(fs::path(res.folder) / "model.safetensors.index.json"));
        CHECK(fs::exists(fs::path(res.folder) / "generation_config.json"));
        CHECK(fs::exists(fs::path(res.folder) / "README.md"));
        // transformers builds it (trust_remote_code) from the shipped modeling file of this architecture.
        const json cfg = json::parse(fileText(fs::path(res.folder) / "config.json"));
        CHECK(cfg["auto_map"]["AutoModelForCausalLM"] == "modeling_moescope_expert_map.MoEScopeExpertMapForCausalLM");
        const std::string py = fileText(fs::path(res.folder) / moe::kExpertMapModelingFile);
        const std::string type = model->config().modelType;  // a quantized fixture's folder is "<type>-<quant>"
        CHECK_THAT(py, moe::test::Contains("_MODEL_TYPE = \"" + type + "\""));
        CHECK_THAT(py, moe::test::Contains("_BASE_CLASS = \"" + moe::transformersCausalLMClass(type) + "\""));
        CHECK_THAT(py, moe::test::Contains("class MoEScopeExpertMapForCausalLM(_base):"));
        CHECK(py.find("{{") == std::string::npos);
        auto back = moe::Model::open(res.folder, rt);
        CHECK(back->store().files().size() > 1);
        CHECK(back->arch().numExperts() == model->arch().numExperts());
        CHECK(back->arch().numSlots(back->moeLayers()[0]) == plan.layers[0].numGroups);
        CHECK(back->arch().numSlots(back->moeLayers()[1]) == E - 1);
        CHECK(back->moeBlock(0).expertSlot == plan.layers[0].labels);
        at::Tensor want = mergedLogits(*model, plan, moe::MergeSemantics::Tied, ids);
        at::Tensor got = back->forward(ids);
        CHECK(relativeError(got, want) <= 1e-5);
        const moe::MemoryPreview mem = moe::previewMemory(*model, plan);
        int64_t bytes = 0;
        for (const auto& n : back->store().names()) bytes += static_cast<int64_t>(back->store().get(n).nbytes);
        CHECK(mem.bytesAfter == bytes);
        CHECK(mem.layers[static_cast<size_t>(model->moeLayers()[1])].slotsAfter == E - 1);
      }
    }
  }
}

// The stored model differs from the reference only by the bf16 rounding of the merged weights
// (the reference evaluates them in fp32), hence the looser tolerance.
TEST_CASE("the expert-map export of the reference plan is the paper's tied model", "[merge][export][reference]") {
  const auto rt = moe::test::runtime("fp32");
  for (const char* arch : {"mixtral", "gpt_oss", "granitemoe"}) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      const moe::MergePlan plan = referencePlan(readReference(arch), moe::ExportFormat::ExpertMap, moe::RouterMode::Average);
      Scratch scratch;
      const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / "tied").string(), exportOptions());
      auto back = moe::Model::open(res.folder, rt);
      moe::h5::File ref(fixture(arch) + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
      CHECK(relativeError(back->forward(inputIds(arch)), moe::readFloatTensor(ref, "merged_tied_average_half/logits")) <=
            1e-2);
    }
  }
}

TEST_CASE("a compact export has the source's names minus the removed experts and an updated config", "[merge][export]") {
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : kArchitectures) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      const Reference r = readReference(arch);
      const moe::MergePlan plan = referencePlan(r, moe::ExportFormat::Compact, moe::RouterMode::Average);
      const int64_t E = model->arch().numExperts(), K = plan.layers[0].numGroups;
      Scratch scratch;
      const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / "out").string(), exportOptions());
      auto back = moe::Model::open(res.folder, rt);
      const moe::TensorStore* store = &back->store();

      // A multi-token-prediction block (tensors beyond the decoder layers, glm4_moe's fixture) keeps
      // the source's expert count, so a merged export leaves it out and declares no MTP layers.
      const std::string layers = "model.layers.";
      // Qwen3-Next keeps it under `mtp.` and counts it in mtp_num_hidden_layers.
      auto isMtp = [&](const std::string& n) {
        if (n.rfind("mtp.", 0) == 0) return true;
        return n.rfind(layers, 0) == 0 && std::stoll(n.substr(layers.size())) >= model->config().numLayers;
      };
      bool sourceHasMtp = false;
      std::set<std::string> expected;
      for (const auto& n : model->store().names()) {
        bool removed = isMtp(n);
        sourceHasMtp = sourceHasMtp || removed;
        for (int64_t e = K; e < E; ++e)
          for (int layer : model->moeLayers())
            if (n.rfind(model->arch().moePrefix(layer) + "experts." + std::to_string(e) + ".", 0) == 0) removed = true;
        if (!removed) expected.insert(n);
      }
      CHECK(namesOf(*store) == expected);

      for (const auto& n : store->names()) {
        INFO(n);
        const moe::TensorInfo& got = store->get(n);
        const moe::TensorInfo& src = model->store().get(n);
        CHECK(got.dtype == src.dtype);
        // A quantized tensor's scales and blocks: checked through the logical tensor they encode.
        const std::string logical = store->logicalNameOf(n);
        std::vector<int64_t> shape = model->store().get(logical).shape;
        bool moe = false;     // re-emitted by the merge
        bool stacked = false;  // its first dim counts experts
        for (int layer : model->moeLayers()) {
          const auto lay = moe::MoeDiskLayout::of(model->arch(), layer);
          for (const auto& rn : lay.routerNames())
            if (rn == logical) moe = stacked = true;
          for (const auto& en : lay.expertNames(K))
            if (en == logical) {
              moe = true;
              stacked = stacked || lay.kind() != moe::ExpertLayout::PerExpert;
            }
        }
        // Its expert dim: the first, or the last of a one-row correction bias [1, E] (ERNIE-4.5).
        if (stacked) shape[shape.size() == 2 && shape[0] == 1 ? 1 : 0] = K;
        CHECK(store->get(logical).shape == shape);
        if (!moe)  // copied byte for byte
          CHECK(std::equal(got.data, got.data + got.nbytes, src.data, src.data + src.nbytes));
      }

      json srcCfg = model->config().raw(), outCfg;
      std::ifstream(fs::path(res.folder) / "config.json") >> outCfg;
      json& srcText = model->config().textFields(srcCfg);  // a multimodal wrapper's: its text_config
      srcText[model->config().numExpertsKey] = K;
      srcText[model->config().topKKey] = std::min(model->arch().topK(), K);
      if (model->moeBlock(0).routing.rule == moe::RoutingRule::SigmoidGroupLimited) {  // tested in test_arch_hooks
        srcCfg["n_group"] = outCfg["n_group"];
        srcCfg["topk_group"] = outCfg["topk_group"];
      }
      if (sourceHasMtp) srcText[model->config().has("mtp_num_hidden_layers") ? "mtp_num_hidden_layers" : "num_nextn_predict_layers"] = 0;
      CHECK(outCfg == srcCfg);
    }
  }
}

TEST_CASE("an export carries the source's own Python modules and tokenizer vocabulary", "[merge][export]") {
  // A Kimi-K2 release: config.json and tokenizer_config.json name Moonshot's modules in auto_map, and
  // the tokenizer reads tiktoken.model. Without them beside the weights the export would not load.
  const auto rt = moe::test::runtime("fp32");
  Scratch scratch;
  const fs::path src = scratch.dir / "src";
  fs::create_directories(src);
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json"})
    fs::copy_file(fs::path(fixture("kimi_k2")) / f, src / f);
  const std::map<std::string, std::string> carried{
      {"configuration_deepseek.py", "class DeepseekV3Config: pass\n"},
      {"modeling_deepseek.py", "class DeepseekV3ForCausalLM: pass\n"},
      {"tokenization_kimi.py", "class TikTokenTokenizer: pass\n"},
      {"tiktoken.model", std::string("IQ== 0\nIg== 1\n\0\xff", 16)},
      {"tokenizer_config.json", "{\"auto_map\": {\"AutoTokenizer\": [\"tokenization_kimi.TikTokenTokenizer\", null]}}"}};
  for (const auto& [name, text] : carried) std::ofstream(src / name, std::ios::binary) << text;
  std::ofstream(src / "notes.txt") << "not part of the model\n";
  std::ofstream(src / moe::kExpertMapModelingFile) << "# a stale expert-map module\n";

  auto model = moe::Model::open(src.string(), rt);
  const Reference r = readReference("kimi_k2");
  for (auto format : {moe::ExportFormat::Compact, moe::ExportFormat::ExpertMap}) {
    const bool map = format == moe::ExportFormat::ExpertMap;
    DYNAMIC_SECTION((map ? "expert map" : "compact")) {
      const moe::MergePlan plan = referencePlan(r, format, moe::RouterMode::Average);
      const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / (map ? "map" : "compact")).string(), exportOptions());
      const fs::path out(res.folder);
      for (const auto& [name, text] : carried) {
        INFO(name);
        CHECK(fileText(out / name) == text);
      }
      CHECK_FALSE(fs::exists(out / "notes.txt"));
      // The source's stale expert-map module is never carried: the expert map writes its own.
      if (map)
        CHECK(fileText(out / moe::kExpertMapModelingFile) == moe::expertMapModelingSource("kimi_k2"));
      else
        CHECK_FALSE(fs::exists(out / moe::kExpertMapModelingFile));
    }
  }
}

TEST_CASE("export refuses bad targets and leaves nothing behind on failure", "[merge][export]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("qwen2_moe"), rt);
  const Reference r = readReference("qwen2_moe");
  const moe::MergePlan plan = referencePlan(r, moe::ExportFormat::Compact, moe::RouterMode::Average);
  Scratch scratch;
  auto run = [&](const std::string& target, moe::ExportOptions opt = exportOptions(), const moe::MergePlan* p = nullptr) {
    return errorKindOf([&] { moe::exportMergedModel(*model, p ? *p : plan, target, opt); });
  };

  SECTION("a plan for another model") {
    moe::ExportOptions opt = exportOptions();
    opt.fingerprint = "some other model";
    CHECK(run((scratch.dir / "out").string(), opt) == moe::ErrorKind::Stale);
    CHECK(scratch.entries().empty());
  }
  SECTION("output inside the source model") {
    const std::string inside = (fs::path(fixture("qwen2_moe")) / "merged").string();
    CHECK(run(inside) == moe::ErrorKind::InvalidArgument);
    CHECK(run(fixture("qwen2_moe")) == moe::ErrorKind::InvalidArgument);
    CHECK(!fs::exists(inside));
  }
  SECTION("a non-empty target") {
    fs::create_directories(scratch.dir / "full");
    std::ofstream(scratch.dir / "full" / "keep.txt") << "mine";
    CHECK(run((scratch.dir / "full").string()) == moe::ErrorKind::InvalidArgument);
    CHECK(fs::exists(scratch.dir / "full" / "keep.txt"));
    std::ofstream(scratch.dir / "file") << "x";
    CHECK(run((scratch.dir / "file").string()) == moe::ErrorKind::InvalidArgument);
  }
  SECTION("an unwritable location (the parent is a regular file)") {
    std::ofstream(scratch.dir / "blocker") << "x";
    CHECK(run((scratch.dir / "blocker" / "out").string()) == moe::ErrorKind::Io);
    CHECK_THAT(lastError, moe::test::Contains("blocker"));
    CHECK((scratch.entries() == std::vector<std::string>{"blocker"}));
  }
  SECTION("a failure half-way removes the temporary folder") {
    moe::ExportOptions opt = exportOptions();
    opt.shardBytes = 32 * 1024;
    int calls = 0;
    opt.progress = [&](int64_t, int64_t) {
      if (++calls == 2) throw moe::Error(moe::ErrorKind::Io, "simulated: disk full");
    };
    CHECK(run((scratch.dir / "out").string(), opt) == moe::ErrorKind::Io);
    CHECK(calls == 2);
    CHECK(scratch.entries().empty());
  }
  SECTION("a write that fails (file size limit, as on a full disk) removes the temporary folder") {
    struct rlimit old {};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
    auto previous = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = 16 * 1024;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    const moe::ErrorKind kind = run((scratch.dir / "out").string());
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, previous);
    CHECK(kind == moe::ErrorKind::Io);
    CHECK_THAT(lastError, moe::test::Contains("model.safetensors") && moe::test::Contains("write failed"));
    CHECK(scratch.entries().empty());
  }
  SECTION("an empty target folder is filled") {
    fs::create_directories(scratch.dir / "empty");
    const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / "empty").string(), exportOptions());
    CHECK(fs::exists(fs::path(res.folder) / "model.safetensors"));
    CHECK((scratch.entries() == std::vector<std::string>{"empty"}));
  }
  SECTION("compact needs one K for every block") {
    moe::MergePlan mixed = plan;
    mixed.layers[1] = moe::keepLayerPlan(1, 12);
    CHECK(run((scratch.dir / "out").string(), exportOptions(), &mixed) == moe::ErrorKind::InvalidArgument);
    CHECK(errorKindOf([&] { moe::previewMemory(*model, mixed); }) == moe::ErrorKind::InvalidArgument);
    mixed.format = moe::ExportFormat::ExpertMap;
    CHECK_NOTHROW(moe::previewMemory(*model, mixed));
    CHECK(scratch.entries().empty());
  }
}

TEST_CASE("a compact router hook reaches the export", "[merge][export]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("gpt_oss"), rt);
  const moe::MergePlan plan = referencePlan(readReference("gpt_oss"), moe::ExportFormat::Compact, moe::RouterMode::Average);
  // A stand-in for a fitted router: the first member's row instead of the group average.
  moe::CompactRouterHook hook = [&](int j, const moe::MoeBlock& original, moe::MoeBlock& compact) {
    const auto members = plan.layers[static_cast<size_t>(j)].members();
    for (size_t g = 0; g < members.size(); ++g) {
      compact.routerWeight[static_cast<int64_t>(g)].copy_(original.routerWeight[members[g][0]]);
      compact.routerBias[static_cast<int64_t>(g)].copy_(original.routerBias[members[g][0]]);
    }
  };
  moe::ExportOptions opt = exportOptions();
  opt.routerHook = hook;
  Scratch scratch;
  const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / "fitted").string(), opt);
  auto back = moe::Model::open(res.folder, rt);
  const auto src = model->moeBlock(0);
  const auto got = back->moeBlock(0);
  CHECK(at::equal(got.routerWeight[1], src.routerWeight[plan.layers[0].members()[1][0]]));
  const at::Tensor ids = inputIds("gpt_oss");
  moe::ForwardOptions fo;
  auto apply = moe::planOverride(plan, moe::MergeSemantics::Compact, hook);
  fo.moeOverride = [&](int j, moe::MoeBlock& b) {
    apply(j, b);
    moe::roundBlockTo(b, at::kBFloat16);
  };
  CHECK(relativeError(back->forward(ids), model->forward(ids, nullptr, fo)) <= 1e-5);
}

TEST_CASE("memory preview counts every tensor before and after", "[merge][memory]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("qwen2_moe"), rt);
  moe::MergePlan plan = referencePlan(readReference("qwen2_moe"), moe::ExportFormat::Compact, moe::RouterMode::Average);
  const moe::MemoryPreview m = moe::previewMemory(*model, plan);
  int64_t bytes = 0;
  for (const auto& n : model->store().names()) bytes += static_cast<int64_t>(model->store().get(n).nbytes);
  CHECK(m.bytesBefore == bytes);
  REQUIRE(m.layers.size() == 3);
  CHECK(m.layers[1].moeIndex == -1);  // dense layer
  CHECK(m.layers[1].bytesAfter == m.layers[1].bytesBefore);
  // Layer 0: 12 -> 6 experts of 3 x [32, 64] bf16 and a router of 12 -> 6 rows of 64.
  CHECK(m.layers[0].slotsAfter == 6);
  CHECK(m.layers[0].bytesBefore - m.layers[0].bytesAfter == 6 * 3 * 32 * 64 * 2 + 6 * 64 * 2);
  CHECK(m.layers[0].paramsBefore - m.layers[0].paramsAfter == 6 * 3 * 32 * 64 + 6 * 64);
  int64_t sum = m.otherBytes;
  for (const auto& l : m.layers) sum += l.bytesAfter;
  CHECK(sum == m.bytesAfter);
}

// The metrics the model card states are what the exported checkpoint itself measures when reloaded.
TEST_CASE("the model card's metrics match the reloaded export", "[merge][export][metrics]") {
  const auto rt = moe::test::runtime("fp32");
  for (const char* arch : {"mixtral", "gpt_oss"}) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      moe::h5::File ref(fixture(arch) + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
      const at::Tensor calib = moe::readIntTensor(ref, "calib_ids");
      const at::Tensor ids = inputIds(arch);
      for (moe::ExportFormat format : {moe::ExportFormat::Compact, moe::ExportFormat::ExpertMap}) {
        INFO(moe::exportFormatName(format));
        const moe::MergePlan plan = referencePlan(readReference(arch), format, moe::RouterMode::Average);
        const moe::MergeMetrics m = moe::measureMerge(*model, plan, {}, calib, ids);
        REQUIRE(m.original);
        REQUIRE(m.merged);
        CHECK(m.layerErrors.size() == model->moeLayers().size());
        CHECK(m.calibTokens == calib.numel());
        moe::ExportOptions opt = exportOptions();
        opt.metricsMarkdown = moe::mergeMetricsMarkdown(*model, plan, m);
        Scratch scratch;
        const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / "out").string(), opt);
        auto back = moe::Model::open(res.folder, rt);
        // Same numbers up to the bf16 rounding of the stored merged weights.
        CHECK(moe::evaluate(*back, ids).perplexity == Approx(m.merged->perplexity).epsilon(1e-2));
        CHECK(moe::evaluate(*model, ids).perplexity == Approx(m.original->perplexity).epsilon(1e-9));
        CHECK(m.merged->meanKl > 0);
        int64_t bytes = 0;
        for (const auto& n : back->store().names()) bytes += static_cast<int64_t>(back->store().get(n).nbytes);
        CHECK(m.memory.bytesAfter == bytes);
        const std::string card = fileText(fs::path(res.folder) / "README.md");
        char ppl[32];
        std::snprintf(ppl, sizeof ppl, "| this export | %.2f |", m.merged->perplexity);
        CHECK_THAT(card, moe::test::Contains("## Metrics") && moe::test::Contains(ppl) && moe::test::Contains("output error"));
      }
    }
  }
}
