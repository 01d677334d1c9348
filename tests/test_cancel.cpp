// Cancellation granularity of the long core jobs the explorer runs in workers: an analysis stops
// within one expert's work, an export within one tensor (leaving nothing at the target). Both are
// cancelled from their own progress callbacks, the way a GUI's Cancel flag lands mid-job.
#include "tests/catch_torch.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/analysis/analyzer.h"
#include "core/analysis/store.h"
#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/io/h5file.h"
#include "core/merge/export.h"
#include "core/merge/plan.h"
#include "core/merge/router_fit.h"
#include "core/model/safetensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string fixture(const std::string& arch) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch; }

at::Tensor calibrationIds(const std::string& arch) {
  moe::h5::File ref(fixture(arch) + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
  return moe::readIntTensor(ref, "calib_ids");
}

struct Scratch {
  fs::path dir;
  Scratch() {
    static int counter = 0;
    dir = fs::temp_directory_path() / ("moescope-test-cancel-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

moe::ErrorKind errorKindOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const moe::Error& e) {
    return e.kind();
  }
  FAIL("no moe::Error thrown");
  return moe::ErrorKind::Io;
}

// Every MoE block merged pairwise (experts 2i and 2i+1), compact format: the same K everywhere.
moe::MergePlan pairwisePlan(const moe::Model& model, const std::string& fingerprint) {
  moe::MergePlan plan;
  plan.modelFingerprint = fingerprint;
  plan.format = moe::ExportFormat::Compact;
  const int64_t E = model.config().numExperts;
  std::vector<int64_t> labels;
  for (int64_t e = 0; e < E; ++e) labels.push_back(e / 2);
  for (size_t j = 0; j < model.moeLayers().size(); ++j)
    plan.layers.push_back(moe::mergeLayerPlan(static_cast<int>(j), labels, moe::MergeStrategy::Average));
  return plan;
}

std::string fileBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A safetensors file parsed here (8-byte header length, JSON header, data) and written again with
// core's one-shot writer: what the file would be had it been written in one piece.
std::string rewrittenInOnePiece(const fs::path& file, const fs::path& out) {
  const std::string bytes = fileBytes(file);
  REQUIRE(bytes.size() >= 8);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data(), 8);
  const json header = json::parse(bytes.substr(8, len));
  const size_t data = 8 + len;
  std::vector<moe::TensorBlob> blobs;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    moe::TensorBlob b;
    b.name = name;
    b.dtype = moe::parseDType(info["dtype"].get<std::string>(), file.string());
    b.shape = info["shape"].get<std::vector<int64_t>>();
    const auto offsets = info["data_offsets"].get<std::vector<uint64_t>>();
    b.bytes.assign(bytes.begin() + static_cast<long>(data + offsets[0]), bytes.begin() + static_cast<long>(data + offsets[1]));
    blobs.push_back(std::move(b));
  }
  std::vector<const moe::TensorBlob*> ptrs;
  for (const auto& b : blobs) ptrs.push_back(&b);
  moe::writeSafetensors(out.string(), ptrs);
  return fileBytes(out);
}

}  // namespace

TEST_CASE("an analysis cancelled from its progress callback stops within one expert", "[analysis][cancel]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("olmoe"), rt);
  const at::Tensor ids = calibrationIds("olmoe");
  const int64_t E = model->config().numExperts;
  REQUIRE(model->moeLayers().size() >= 2);
  REQUIRE(E >= 8);
  moe::AnalysisOptions options;
  options.progressPerExpert = true;

  // Uncancelled, the per-expert events count the experts evaluated: 1..E once per block.
  {
    std::map<int, std::vector<int64_t>> seen;  // decoder layer -> expertsDone of its events
    auto progress = [&](const moe::AnalysisProgress& p) {
      if (p.expertsTotal > 0) seen[p.computingLayer].push_back(p.expertsDone);
    };
    const auto result = moe::runAnalysis(*model, ids, options, nullptr, progress);
    REQUIRE(result.layers.size() == model->moeLayers().size());
    std::vector<int64_t> oneToE;
    for (int64_t e = 1; e <= E; ++e) oneToE.push_back(e);
    for (int layer : model->moeLayers()) CHECK(seen[layer] == oneToE);
  }

  // Cancelled after the third expert of the second MoE block: no further expert (or group of
  // experts evaluated together) is evaluated, the run ends with Cancelled, and the half-done block
  // is not written to the store. One expert at a time, then in groups of two (their check comes
  // before every group: 3 was the first of a group, so 4 still reports).
  const int64_t I = model->config().moeIntermediateSize;
  for (int64_t groupOf : {1, 2}) {
    INFO("experts evaluated " << groupOf << " at a time");
    options.expertGroupWidth = groupOf == 1 ? 0 : groupOf * I;
    Scratch scratch;
    const moe::AnalysisInfo info = moe::describeAnalysis(*model, ids, {{"statistic", "all"}, {"dtype", "fp32"}});
    auto store = moe::AnalysisStore::create((scratch.dir / "a.h5").string(), info);
    const int second = model->moeLayers()[1];
    std::atomic<bool> cancel{false};
    int afterFlag = 0;
    int64_t doneWhenSet = 0;
    auto progress = [&](const moe::AnalysisProgress& p) {
      if (p.expertsTotal == 0) return;  // a layer's end
      if (cancel) {
        ++afterFlag;
        return;
      }
      if (p.computingLayer == second && p.expertsDone == 3) {
        cancel = true;
        doneWhenSet = p.expertsDone;
      }
    };
    CHECK(errorKindOf([&] { moe::runAnalysis(*model, ids, options, &store, progress, &cancel); }) ==
          moe::ErrorKind::Cancelled);
    CHECK(doneWhenSet == 3);
    CHECK(afterFlag <= 1);  // within one expert's (one group's) work: no expert after the group of 3
    CHECK(store.completedLayers() == std::vector<int>{0});
  }
}

TEST_CASE("an export cancelled from its tensor callback stops within one tensor and leaves no folder",
          "[merge][export][cancel]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("olmoe"), rt);
  const std::string fingerprint = "test-fingerprint";
  const moe::MergePlan plan = pairwisePlan(*model, fingerprint);
  Scratch scratch;

  // Uncancelled: one callback per tensor, one shard that loads and that core's one-piece writer
  // reproduces byte for byte.
  {
    moe::ExportOptions opt;
    opt.fingerprint = fingerprint;
    int64_t written = 0;
    opt.tensorWritten = [&](const std::string&) { ++written; };
    const auto res = moe::exportMergedModel(*model, plan, (scratch.dir / "whole").string(), opt);
    CHECK(res.files.front() == "model.safetensors");
    CHECK(written == res.numTensors);
    CHECK(written > 10);
    CHECK(rewrittenInOnePiece(scratch.dir / "whole" / "model.safetensors", scratch.dir / "one-piece.safetensors") ==
          fileBytes(scratch.dir / "whole" / "model.safetensors"));
    auto back = moe::Model::open(res.folder, rt);
    CHECK(back->arch().numExperts() == model->config().numExperts / 2);
  }

  // Cancelled after the first tensor of a single shard.
  const fs::path target = scratch.dir / "cancelled";
  std::atomic<bool> cancel{false};
  int afterFlag = 0;
  moe::ExportOptions opt;
  opt.fingerprint = fingerprint;
  opt.cancel = &cancel;
  opt.tensorWritten = [&](const std::string&) {
    if (cancel) ++afterFlag;
    else cancel = true;
  };
  CHECK(errorKindOf([&] { moe::exportMergedModel(*model, plan, target.string(), opt); }) == moe::ErrorKind::Cancelled);
  CHECK(afterFlag <= 1);  // within one tensor
  CHECK_FALSE(fs::exists(target));
  for (const auto& e : fs::directory_iterator(scratch.dir))  // nor its temporary folder
    CHECK(e.path().filename().string().rfind("cancelled", 0) != 0);
}

TEST_CASE("a router fit stops at its next iteration when cancelled, not at the end of its layer", "[merge][cancel]") {
  moe::initThreads();
  auto model = moe::Model::open(fixture("mixtral"), moe::test::runtime("fp32"));
  const moe::MoeBlock block = model->moeBlock(0);
  const int64_t E = block.numExperts();
  std::vector<int64_t> labels(static_cast<size_t>(E));
  for (int64_t e = 0; e < E; ++e) labels[static_cast<size_t>(e)] = e % 2;
  const moe::MoeBlock compact =
      moe::mergeCompact(block, labels, 2, moe::mergeCoefficients(labels, 2, moe::MergeStrategy::Average),
                        moe::routerCoefficients(labels, 2, moe::RouterMode::Average));
  const at::Tensor x = at::randn({64, block.hiddenSize()});
  moe::RouterFitOptions o;
  CHECK_NOTHROW(moe::fitCompactRouter(moe::RouterMode::TiedFit, block, compact, labels, x, o));
  // lse-fit is closed-form (nothing to interrupt); the iterative fits check the flag at every step.
  std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  CHECK_NOTHROW(moe::fitCompactRouter(moe::RouterMode::LseFit, block, compact, labels, x, o));
  for (moe::RouterMode mode : {moe::RouterMode::SoftFit, moe::RouterMode::TiedFit})
    CHECK(errorKindOf([&] { moe::fitCompactRouter(mode, block, compact, labels, x, o); }) == moe::ErrorKind::Cancelled);
}
