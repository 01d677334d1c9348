// The HC-SMoE statistics pass against the statistics computed from transformers' modules the way
// the paper's code computes them (tests/data/hf-tiny/*/hcsmoe_reference.h5, on its calib_ids).
#include "tests/catch_torch.h"
#include "tests/fixtures.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/analysis/analyzer.h"
#include "core/analysis/fingerprint.h"
#include "core/analysis/freshness.h"
#include "core/analysis/resume.h"
#include "core/analysis/store.h"
#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/merge/export.h"
#include "core/merge/plan.h"

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kArchitectures = moe::test::fixtureArchitectures();

std::string fixture(const std::string& arch) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch; }

double maxRelative(const std::vector<double>& got, const std::vector<double>& ref) {
  REQUIRE(got.size() == ref.size());
  double err = 0, scale = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    err = std::max(err, std::abs(got[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return err / (scale > 0 ? scale : 1.0);
}

// Labels equal up to renaming of the clusters.
bool samePartition(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  return moe::canonicalLabels(a) == moe::canonicalLabels(b);
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("moescope-analysis-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("statistics, distances, linkages and cuts match the HC-SMoE reference", "[analysis]") {
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : kArchitectures) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      moe::h5::File ref(fixture(arch) + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
      at::Tensor ids = moe::readIntTensor(ref, "calib_ids");
      moe::AnalysisResult result = moe::runAnalysis(*model, ids, {});
      const auto layers = ref.children("layers");
      REQUIRE(result.layers.size() == layers.size());
      for (const auto& s : result.layers) {
        const std::string g = "layers/" + std::to_string(s.moeIndex);
        INFO(g);
        CHECK(s.prefix == ref.readStringAttribute(g, "disk_prefix"));
        // Usage frequency: exact up to one selection per expert (ties at the k-th logit may flip).
        const auto freq = ref.readDouble(g + "/usage_frequency").data;
        const double selections = static_cast<double>(s.tokens * s.topK);
        for (size_t e = 0; e < freq.size(); ++e)
          CHECK(std::abs(static_cast<double>(s.selectionCounts[e]) - freq[e] * selections) <= 1.0 + 1e-9);
        CHECK(maxRelative(s.expertOutputMean.data, ref.readDouble(g + "/expert_output_mean").data) <= 1e-4);
        const moe::Matrix d = s.distances(moe::Representation::ExpertOutput, "euclidean");
        const auto refDist = ref.readDouble(g + "/distance").data;
        CHECK(maxRelative(d.data, refDist) <= 1e-4);
        const moe::CondensedMatrix condensed = moe::condensedFromSquare(d.data.data(), d.rows);
        for (const char* method : {"single", "complete", "average", "ward"}) {
          INFO(method);
          const auto z = moe::linkage(condensed, moe::parseLinkageMethod(method));
          const auto refZ = ref.readDouble(g + "/linkage_" + method);
          const auto zm = z.toMatrix();
          for (int64_t r = 0; r < refZ.shape[0]; ++r) {
            CHECK(zm[static_cast<size_t>(4 * r)] == refZ.data[static_cast<size_t>(4 * r)]);
            CHECK(zm[static_cast<size_t>(4 * r + 1)] == refZ.data[static_cast<size_t>(4 * r + 1)]);
            CHECK(std::abs(zm[static_cast<size_t>(4 * r + 2)] - refZ.data[static_cast<size_t>(4 * r + 2)]) <=
                  1e-4 * std::abs(refZ.data[static_cast<size_t>(4 * r + 2)]));
            CHECK(zm[static_cast<size_t>(4 * r + 3)] == refZ.data[static_cast<size_t>(4 * r + 3)]);
          }
          for (const auto& name : ref.children(g)) {
            const std::string prefix = std::string("labels_") + method + "_k";
            if (name.rfind(prefix, 0) != 0) continue;
            const int64_t k = std::stoll(name.substr(prefix.size()));
            CHECK(samePartition(moe::cutTree(z, k), ref.readInt(g + "/" + name).data));
          }
        }
      }
    }
  }
}

TEST_CASE("routed-only statistics agree with the all-token pass where they overlap", "[analysis]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("qwen2_moe"), rt);
  moe::h5::File ref(fixture("qwen2_moe") + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
  at::Tensor ids = moe::readIntTensor(ref, "calib_ids");
  moe::AnalysisOptions all, routed;
  all.tokenChunk = 50;  // several chunks, so routed tokens straddle chunk borders
  routed.allTokens = false;
  auto a = moe::runAnalysis(*model, ids, all);
  auto b = moe::runAnalysis(*model, ids, routed);
  REQUIRE(a.layers.size() == b.layers.size());
  for (size_t j = 0; j < a.layers.size(); ++j) {
    CHECK(b.layers[j].expertOutputMean.empty());
    CHECK(maxRelative(a.layers[j].expertOutputMeanRouted.data, b.layers[j].expertOutputMeanRouted.data) <= 1e-5);
    CHECK(maxRelative(a.layers[j].reapScore, b.layers[j].reapScore) <= 1e-5);
    CHECK(a.layers[j].selectionCounts == b.layers[j].selectionCounts);
    for (double r : a.layers[j].reapScore) CHECK(r >= 0.0);
  }
  CHECK_THROWS_AS(b.layers[0].distances(moe::Representation::ExpertOutput, "euclidean"), moe::Error);
}

TEST_CASE("the analysis store round-trips, resumes and refuses stale files", "[analysis][store]") {
  TempDir tmp;
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("olmoe"), rt);
  moe::h5::File ref(fixture("olmoe") + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
  at::Tensor ids = moe::readIntTensor(ref, "calib_ids");
  std::vector<int64_t> flat(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  const moe::AnalysisInfo info = moe::describeAnalysis(*model, ids, {{"statistic", "all"}, {"dtype", "fp32"}});
  const std::string path = (tmp.path / "a.h5").string();

  // An analysis cancelled after the first decoder layer keeps MoE block 0 only.
  {
    auto store = moe::AnalysisStore::create(path, info);
    std::atomic<bool> cancel{false};
    auto progress = [&](const moe::AnalysisProgress& p) {
      if (p.layer == 0) cancel = true;
    };
    CHECK_THROWS_AS(moe::runAnalysis(*model, ids, {}, &store, progress, &cancel), moe::Error);
    CHECK(store.completedLayers() == std::vector<int>{0});
  }
  // Resuming computes only the missing blocks.
  {
    auto opened = moe::openAnalysisStoreForRun(path, info, false, moe::OnResumeConflict::Refuse);
    CHECK(opened.resumed);
    auto result = moe::runAnalysis(*model, ids, {}, &opened.store);
    CHECK(result.resumedLayers == 1);
    CHECK(result.layers.size() == model->moeLayers().size() - 1);
    CHECK(opened.store.isComplete());
  }
  // Reopening reads back what a fresh analysis computes, without recomputing: block 0 exactly. The
  // later blocks within float32 rounding: in the resumed run block 0's output came from its own
  // forward pass, in a fresh one from the expert evaluation's products (other shapes, other
  // rounding), and the later blocks' inputs carry that difference (2.5e-7 here).
  auto fresh = moe::runAnalysis(*model, ids, {});
  auto store = moe::AnalysisStore::open(path);
  CHECK(store.info().moeLayers == model->moeLayers());
  CHECK(store.info().tokenIds == flat);
  CHECK(store.info().modelManifest == info.modelManifest);
  for (const auto& s : fresh.layers) {
    INFO("MoE block " << s.moeIndex);
    const double tol = s.moeIndex == 0 ? 1e-12 : 1e-5;
    moe::LayerStats r = store.readLayer(s.moeIndex);
    CHECK(r.selectionCounts == s.selectionCounts);
    CHECK(maxRelative(r.expertOutputMean.data, s.expertOutputMean.data) <= tol);
    CHECK(maxRelative(r.routerLogitGram.data, s.routerLogitGram.data) <= tol);
    CHECK(r.prefix == s.prefix);
  }
  // Stale: another model, or other calibration tokens.
  auto other = moe::Model::open(fixture("qwen3_moe"), rt);
  try {
    moe::checkStoreMatchesModel(store, other->folder());
    FAIL("stale model not detected");
  } catch (const moe::Error& e) {
    CHECK(e.kind() == moe::ErrorKind::Stale);
  }
  at::Tensor changed = ids.clone();
  changed.view({-1})[0] += 1;
  const moe::AnalysisInfo otherTokens = moe::describeAnalysis(*model, changed, {{"statistic", "all"}, {"dtype", "fp32"}});
  CHECK_THROWS_AS(moe::openAnalysisStoreForRun(path, otherTokens, false, moe::OnResumeConflict::Refuse), moe::Error);
  // Not an analysis file at all.
  CHECK_THROWS_AS(moe::AnalysisStore::open(fixture("olmoe") + "/reference.h5"), moe::Error);
}

namespace {

moe::ErrorKind kindOf(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const moe::Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  FAIL("no moe::Error thrown");
  return moe::ErrorKind::Io;
}

// Byte offset of a tensor's data in a .safetensors file (8-byte header length, JSON header, data).
int64_t tensorOffset(const fs::path& file, const std::string& tensor) {
  std::ifstream in(file, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  const auto j = nlohmann::json::parse(header);
  return 8 + static_cast<int64_t>(n) + j.at(tensor).at("data_offsets").at(0).get<int64_t>();
}

// Flips the sign bit of the first element of `tensor` in place, keeping the file's size, layout
// and modification time: a weight change only the tensor bytes can reveal.
void rewriteWeightsKeepingTime(const fs::path& file, const std::string& tensor) {
  const auto mtime = fs::last_write_time(file);
  std::fstream io(file, std::ios::binary | std::ios::in | std::ios::out);
  const int64_t at = tensorOffset(file, tensor) + 1;  // bf16 / fp16 high byte; for fp32 a mantissa byte
  io.seekg(at);
  char b = 0;
  io.read(&b, 1);
  b = static_cast<char>(b ^ 0x80);
  io.seekp(at);
  io.write(&b, 1);
  io.close();
  fs::last_write_time(file, mtime);
}

std::string someExpertTensor(const moe::Model& model) {
  for (const auto& name : model.store().names())
    if (name.find("experts.1.") != std::string::npos) return name;
  FAIL("no expert tensor");
  return "";
}

}  // namespace

TEST_CASE("a store no longer matches a model whose weights, config or files changed", "[analysis][store][fresh]") {
  TempDir tmp;
  const auto rt = moe::test::runtime("fp32");
  const fs::path dir = tmp.path / "model";
  fs::copy(fixture("olmoe"), dir, fs::copy_options::recursive);
  std::string tensor;
  moe::AnalysisInfo info;
  {
    auto model = moe::Model::open(dir.string(), rt);
    moe::h5::File ref(fixture("olmoe") + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
    info = moe::describeAnalysis(*model, moe::readIntTensor(ref, "calib_ids"), {});
    tensor = someExpertTensor(*model);
  }
  const std::string path = (tmp.path / "a.h5").string();
  moe::AnalysisStore::create(path, info);
  const auto store = moe::AnalysisStore::open(path);
  CHECK_NOTHROW(moe::checkStoreMatchesModel(store));  // the folder the store names, unchanged
  std::string message;

  SECTION("a fine-tune saved in the same layout (only tensor bytes differ)") {
    const std::string before = info.modelFingerprint;
    rewriteWeightsKeepingTime(dir / "model.safetensors", tensor);
    {
      auto model = moe::Model::open(dir.string(), rt);
      CHECK(moe::modelFingerprint(model->folder(), model->store()) != before);
    }
    CHECK(kindOf([&] { moe::checkStoreMatchesModel(store); }, &message) == moe::ErrorKind::Stale);
    CHECK_THAT(message, moe::test::Contains("model.safetensors: tensor bytes changed"));
  }
  SECTION("the weights file rewritten with identical bytes (modification time only)") {
    fs::last_write_time(dir / "model.safetensors", fs::last_write_time(dir / "model.safetensors") + std::chrono::hours(1));
    CHECK(kindOf([&] { moe::checkStoreMatchesModel(store); }, &message) == moe::ErrorKind::Stale);
    CHECK_THAT(message, moe::test::Contains("model.safetensors: modified"));
  }
  SECTION("config.json edited") {
    std::ofstream(dir / "config.json", std::ios::app) << "\n";
    CHECK(kindOf([&] { moe::checkStoreMatchesModel(store); }, &message) == moe::ErrorKind::Stale);
    CHECK_THAT(message, moe::test::Contains("config.json changed"));
  }
  SECTION("another folder given explicitly") {
    CHECK(kindOf([&] { moe::checkStoreMatchesModel(store, fixture("qwen3_moe")); }, &message) == moe::ErrorKind::Stale);
    CHECK_THAT(message, moe::test::Contains(fixture("qwen3_moe")));
  }
  SECTION("the model folder is gone") {
    fs::rename(dir, tmp.path / "moved");
    CHECK(kindOf([&] { moe::checkStoreMatchesModel(store); }, &message) == moe::ErrorKind::Io);
    CHECK_THAT(message, moe::test::Contains(dir.string()));
  }
}

TEST_CASE("the calibration fingerprint covers the sequence shape", "[analysis][store][resume]") {
  const std::vector<int64_t> tokens{1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(moe::tokensFingerprint(tokens, {2, 4}) != moe::tokensFingerprint(tokens, {4, 2}));
  CHECK(moe::tokensFingerprint(tokens, {2, 4}) == moe::tokensFingerprint(tokens, {2, 4}));
}

TEST_CASE("a store is resumed only by a run with the same settings", "[analysis][store][resume]") {
  TempDir tmp;
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("olmoe"), rt);
  moe::h5::File ref(fixture("olmoe") + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
  const at::Tensor ids = moe::readIntTensor(ref, "calib_ids");
  REQUIRE(ids.dim() == 2);
  moe::TokenSourceOptions src;
  src.sequences = ids.size(0);
  src.length = ids.size(1);
  moe::AnalysisOptions all, routed;
  routed.allTokens = false;
  auto describe = [&](const at::Tensor& t, const moe::AnalysisOptions& o, const std::string& dtype) {
    return moe::describeAnalysis(*model, t, moe::analysisSettings("calib.jsonl", src, o, dtype));
  };
  const moe::AnalysisInfo stored = describe(ids, all, "fp32");
  const std::string path = (tmp.path / "a.h5").string();
  {
    auto store = moe::AnalysisStore::create(path, stored);
    store.writeLayer(moe::runAnalysis(*model, ids, all).layers.at(0));
  }
  CHECK(moe::resumeConflict(moe::AnalysisStore::open(path).info(), stored).empty());

  // The same tokens in another [sequences, length] shape.
  const at::Tensor reshaped = ids.size(0) == 1 ? ids.reshape({2, -1}) : ids.reshape({1, -1});
  const std::string s0 = std::to_string(ids.size(0)), r0 = std::to_string(reshaped.size(0));
  const std::string conflictShape = moe::resumeConflict(stored, describe(reshaped, all, "fp32"));
  CHECK_THAT(conflictShape, moe::test::Contains("--sequences: the store was computed with " + s0 +
                                                ", this run asks for " + r0));
  CHECK_THAT(moe::resumeConflict(stored, describe(ids, routed, "fp32")),
             moe::test::Contains("--stat: the store was computed with all, this run asks for routed"));
  CHECK_THAT(moe::resumeConflict(stored, describe(ids, all, "bf16")),
             moe::test::Contains("--dtype: the store was computed with fp32, this run asks for bf16"));
  at::Tensor otherIds = ids.clone();
  otherIds.view({-1})[3] += 1;
  CHECK_THAT(moe::resumeConflict(stored, describe(otherIds, all, "fp32")),
             moe::test::Contains("calibration tokens differ"));

  SECTION("the CLI refuses, naming the setting, and keeps the file") {
    std::string message;
    CHECK(kindOf([&] { moe::openAnalysisStoreForRun(path, describe(ids, routed, "fp32"), false,
                                                    moe::OnResumeConflict::Refuse); },
                 &message) == moe::ErrorKind::Stale);
    CHECK_THAT(message, moe::test::Contains("--stat"));
    CHECK_THAT(message, moe::test::Contains("--overwrite"));
    CHECK(moe::AnalysisStore::open(path).completedLayers() == std::vector<int>{0});
  }
  SECTION("--overwrite starts over") {
    auto opened = moe::openAnalysisStoreForRun(path, describe(ids, routed, "fp32"), true, moe::OnResumeConflict::Refuse);
    CHECK_FALSE(opened.resumed);
    CHECK(opened.store.completedLayers().empty());
    CHECK(opened.store.info().settings["statistic"] == "routed");
  }
  SECTION("the explorer's cache is replaced on a conflict") {
    auto opened = moe::openAnalysisStoreForRun(path, describe(reshaped, all, "fp32"), false,
                                               moe::OnResumeConflict::StartOver);
    CHECK_FALSE(opened.resumed);
    CHECK_THAT(opened.startedOverBecause, moe::test::Contains("--sequences"));
    CHECK(opened.store.completedLayers().empty());
  }
  SECTION("matching settings resume") {
    auto opened = moe::openAnalysisStoreForRun(path, stored, false, moe::OnResumeConflict::Refuse);
    CHECK(opened.resumed);
    CHECK(opened.store.completedLayers() == std::vector<int>{0});
  }
}

TEST_CASE("an expert-map export is analysed per expert: experts sharing a slot are at weight distance 0",
          "[analysis][expert-map]") {
  TempDir tmp;
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("olmoe"), rt);
  const int64_t E = model->config().numExperts;
  REQUIRE(E % 2 == 0);
  // Every block maps experts 2m and 2m+1 to one stored slot m: E / 2 slots behind E router experts.
  std::vector<int64_t> labels;
  for (int64_t e = 0; e < E; ++e) labels.push_back(e / 2);
  moe::MergePlan plan;
  plan.modelFingerprint = "expert-map-test";
  plan.format = moe::ExportFormat::ExpertMap;
  for (size_t j = 0; j < model->moeLayers().size(); ++j)
    plan.layers.push_back(moe::mergeLayerPlan(static_cast<int>(j), labels, moe::MergeStrategy::Average));
  moe::ExportOptions opt;
  opt.fingerprint = plan.modelFingerprint;
  const auto exported = moe::exportMergedModel(*model, plan, (tmp.path / "map").string(), opt);
  auto mapped = moe::Model::open(exported.folder, rt);
  REQUIRE(mapped->arch().numSlots(mapped->moeLayers()[0]) == E / 2);

  moe::h5::File ref(fixture("olmoe") + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
  const at::Tensor ids = moe::readIntTensor(ref, "calib_ids");
  const std::string path = (tmp.path / "map.h5").string();
  auto store = moe::AnalysisStore::create(path, moe::describeAnalysis(*mapped, ids, {}));
  moe::runAnalysis(*mapped, ids, {}, &store);
  REQUIRE(store.isComplete());
  for (int j : store.completedLayers()) {
    INFO("MoE block " << j);
    const moe::LayerStats s = store.readLayer(j);
    CHECK(s.weightGram.rows == E);
    CHECK(s.weightGram.cols == E);
    const moe::Matrix d = s.distances(moe::Representation::Weights, "euclidean");
    REQUIRE(d.rows == E);
    for (int64_t a = 0; a < E; ++a)
      for (int64_t b = 0; b < E; ++b) {
        if (a / 2 == b / 2) CHECK(d(a, b) == 0.0);
        else CHECK(d(a, b) > 0.0);
      }
    moe::h5::File f(path, moe::h5::File::Mode::Read);
    const std::string g = "layers/" + std::to_string(j);
    CHECK(f.shape(g + "/distance/weights_euclidean") == moe::h5::Shape{E, E});
    CHECK(f.shape(g + "/linkage/weights_euclidean_average") == moe::h5::Shape{E - 1, 4});
    // The first E / 2 merges of any linkage join the zero-distance pairs.
    const auto z = f.readDouble(g + "/linkage/weights_euclidean_single").data;
    for (int64_t r = 0; r < E / 2; ++r) CHECK(z[static_cast<size_t>(4 * r + 2)] == 0.0);
  }
}

TEST_CASE("experts evaluated in groups give the per-expert statistics, for every architecture", "[analysis]") {
  // One product for several narrow experts (MoeBlock::slotsHidden) must not change any statistic:
  // groups of the whole block (the default width on these tiny experts), of 3 (a ragged last group)
  // and one expert at a time.
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : kArchitectures) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      moe::h5::File ref(fixture(arch) + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
      const at::Tensor ids = moe::readIntTensor(ref, "calib_ids");
      moe::AnalysisOptions single;
      single.expertGroupWidth = 0;
      const moe::AnalysisResult one = moe::runAnalysis(*model, ids, single);
      for (int64_t groupOf : {int64_t{3}, int64_t{-1}}) {
        moe::AnalysisOptions grouped;
        if (groupOf > 0) grouped.expertGroupWidth = groupOf * model->config().moeIntermediateSize;
        const moe::AnalysisResult many = moe::runAnalysis(*model, ids, grouped);
        REQUIRE(many.layers.size() == one.layers.size());
        for (size_t j = 0; j < one.layers.size(); ++j) {
          INFO("MoE block " << j << ", group width " << grouped.expertGroupWidth);
          const moe::LayerStats &a = one.layers[j], &b = many.layers[j];
          CHECK(a.selectionCounts == b.selectionCounts);
          CHECK(maxRelative(b.expertOutputMean.data, a.expertOutputMean.data) < 1e-5);
          CHECK(maxRelative(b.expertOutputMeanRouted.data, a.expertOutputMeanRouted.data) < 1e-5);
          CHECK(maxRelative(b.reapScore, a.reapScore) < 1e-5);
        }
      }
    }
  }
}

TEST_CASE("the analysis hands each block the routed output of its own expert evaluation", "[analysis]") {
  // The analysis' forward pass takes a block's routed output from the expert outputs it computed for
  // its statistics (MoeTrace::routedOutput) instead of running the experts again. That sum must be
  // the block's own (MoeBlock::combine, checked against transformers by test_forward), however the
  // experts were evaluated: token chunks that split experts' routed tokens, groups of experts, one
  // at a time, or on routed tokens only. Llama-4 scales expert inputs and keeps its own pass.
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  struct Recorder : moe::ForwardObserver {
    std::vector<std::pair<at::Tensor, moe::Routing>> blocks;
    void onMoeBlock(const moe::MoeTrace& t) override { blocks.emplace_back(t.input, t.routing); }
  };
  for (const std::string& arch : kArchitectures) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      moe::h5::File ref(fixture(arch) + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
      Recorder seen;
      moe::ForwardOptions fo;
      fo.computeLogits = false;
      model->forward(moe::readIntTensor(ref, "calib_ids"), &seen, fo);
      REQUIRE(seen.blocks.size() == model->moeLayers().size());
      for (size_t j = 0; j < seen.blocks.size(); ++j) {
        const moe::MoeBlock block = model->moeBlock(static_cast<int>(j));
        moe::MoeTrace trace;
        trace.layer = model->moeLayers()[j];
        trace.moeIndex = static_cast<int>(j);
        trace.block = &block;
        trace.input = seen.blocks[j].first;
        trace.routing = seen.blocks[j].second;
        trace.routerLogits = block.routerLogits(trace.input);
        const at::Tensor expected = block.combine(trace.input, trace.routing);
        moe::AnalysisOptions grouped, single, routedOnly;
        grouped.tokenChunk = 5;
        single.expertGroupWidth = 0;
        routedOnly.allTokens = false;
        for (const moe::AnalysisOptions& o : {moe::AnalysisOptions(), grouped, single, routedOnly}) {
          INFO("MoE block " << j << ", token chunk " << o.tokenChunk << ", group width " << o.expertGroupWidth
                            << ", all tokens " << o.allTokens);
          at::Tensor routed;
          moe::computeLayerStats(trace, model->arch().moePrefix(trace.layer), o, nullptr, nullptr, nullptr, {},
                                 &routed);
          if (block.weightsScaleInput) {
            CHECK_FALSE(routed.defined());
            continue;
          }
          REQUIRE(routed.defined());
          CHECK(routed.sizes() == expected.sizes());
          CHECK(routed.scalar_type() == expected.scalar_type());
          const double scale = expected.abs().max().item<double>();
          CHECK(scale > 0);
          CHECK((routed - expected).abs().max().item<double>() <= 1e-6 * scale);
        }
      }
    }
  }
}
