// The HC-SMoE statistics pass against the statistics computed from transformers' modules the way
// the paper's code computes them (tests/data/hf-tiny/*/hcsmoe_reference.h5, on its calib_ids).
#include "tests/catch_torch.h"

#include <unistd.h>

#include <filesystem>

#include "core/analysis/analyzer.h"
#include "core/analysis/fingerprint.h"
#include "core/analysis/store.h"
#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace {

const char* kArchitectures[] = {"mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "granitemoe", "deepseek_v3", "gpt_oss"};

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
  for (const char* arch : kArchitectures) {
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

  moe::AnalysisInfo info;
  info.modelDir = model->folder();
  info.modelType = model->config().modelType;
  info.modelFingerprint = moe::modelFingerprint(model->folder(), model->store());
  info.calibrationFingerprint = moe::tokensFingerprint(flat);
  info.numLayers = model->numLayers();
  info.moeLayers = model->moeLayers();
  info.numExperts = model->config().numExperts;
  info.topK = model->config().topK;
  info.hidden = model->config().hiddenSize;
  info.tokenShape = {ids.size(0), ids.size(1)};
  info.tokenIds = flat;
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
    auto store = moe::AnalysisStore::openForResume(path, info.modelFingerprint, info.calibrationFingerprint);
    auto result = moe::runAnalysis(*model, ids, {}, &store);
    CHECK(result.resumedLayers == 1);
    CHECK(result.layers.size() == model->moeLayers().size() - 1);
    CHECK(store.isComplete());
  }
  // Reopening reads back exactly what a fresh analysis computes, without recomputing.
  auto fresh = moe::runAnalysis(*model, ids, {});
  auto store = moe::AnalysisStore::open(path);
  CHECK(store.info().moeLayers == model->moeLayers());
  CHECK(store.info().tokenIds == flat);
  for (const auto& s : fresh.layers) {
    moe::LayerStats r = store.readLayer(s.moeIndex);
    CHECK(r.selectionCounts == s.selectionCounts);
    CHECK(maxRelative(r.expertOutputMean.data, s.expertOutputMean.data) <= 1e-12);
    CHECK(maxRelative(r.routerLogitGram.data, s.routerLogitGram.data) <= 1e-12);
    CHECK(r.prefix == s.prefix);
  }
  // Stale: another model, or other calibration tokens.
  auto other = moe::Model::open(fixture("qwen3_moe"), rt);
  try {
    store.checkFresh(moe::modelFingerprint(other->folder(), other->store()));
    FAIL("stale model not detected");
  } catch (const moe::Error& e) {
    CHECK(e.kind() == moe::ErrorKind::Stale);
  }
  flat[0] += 1;
  CHECK_THROWS_AS(moe::AnalysisStore::openForResume(path, info.modelFingerprint, moe::tokensFingerprint(flat)),
                  moe::Error);
  // Not an analysis file at all.
  CHECK_THROWS_AS(moe::AnalysisStore::open(fixture("olmoe") + "/reference.h5"), moe::Error);
}
