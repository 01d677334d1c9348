// Staging (core/engine/layer_stager.h): the next layer's weights read or copied while the current
// one computes. The copies path is the GPU's (pinned buffers, a side stream); run on the CPU here
// (Staging::Copy), and on a GPU with MOESCOPE_TEST_DEVICE=cuda.
#include "tests/catch_torch.h"
#include "tests/fixtures.h"

#include <cstring>
#include <string>

#include "core/engine/layer_stager.h"
#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/io/h5file.h"

namespace {

std::string fixture(const std::string& arch) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch; }

double relativeError(const at::Tensor& got, const at::Tensor& ref) {
  REQUIRE(got.sizes() == ref.sizes());
  const double scale = ref.abs().max().item<double>();
  return (got.to(at::kCPU, at::kFloat) - ref.to(at::kCPU, at::kFloat)).abs().max().item<double>() /
         (scale > 0 ? scale : 1.0);
}

// The stored tensors (their bytes) behind one decoder layer's tensors.
std::vector<const moe::TensorInfo*> storedOf(const moe::Model& m, int layer) {
  std::vector<const moe::TensorInfo*> out;
  for (const auto& spec : m.arch().layerTensors(layer))
    for (const auto& name : m.store().storedNamesOf(spec.name)) out.push_back(&m.store().get(name));
  return out;
}

}  // namespace

TEST_CASE("staged weights give every fixture the logits the mapped weights give", "[staging]") {
  moe::initThreads();
  for (const char* dtype : {"fp32", "bf16"}) {
    const auto rt = moe::test::runtime(dtype);
    for (const std::string& arch : moe::test::fixtureArchitectures()) {
      DYNAMIC_SECTION(arch << " " << dtype) {
        auto model = moe::Model::open(fixture(arch), rt);
        moe::h5::File ref(fixture(arch) + "/reference.h5", moe::h5::File::Mode::Read);
        const at::Tensor ids = moe::readIntTensor(ref, "input_ids");
        model->setStaging(moe::Staging::Off);
        const at::Tensor mapped = model->forward(ids);
        // Buffers of an odd size, so that tensors straddle them and the two alternate many times.
        model->setStaging(moe::Staging::Copy, 1000);
        const at::Tensor copied = model->forward(ids);
        CHECK(model->stagingFailure().empty());
        model->setStaging(moe::Staging::Auto);
        const at::Tensor readAhead = model->forward(ids);
        CHECK(model->stagingFailure().empty());
        // The same bytes through the same operations: the same bits.
        CHECK(at::equal(copied, mapped));
        CHECK(at::equal(readAhead, mapped));
        if (std::string(dtype) == "fp32") CHECK(relativeError(copied, moe::readFloatTensor(ref, "logits")) <= 1e-3);
      }
    }
  }
}

TEST_CASE("a staged layer holds the bytes of every stored tensor of the layer", "[staging]") {
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : {std::string("mixtral"), std::string("deepseek_v3-fp8"), std::string("gpt_oss-mxfp4")}) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      const int layer = model->moeLayers().back();
      moe::LayerStager stager(model->store(), model->arch(), rt, moe::Staging::Copy, 777);
      REQUIRE(stager.copies());
      CHECK(stager.take(layer) == nullptr);  // not started
      stager.start(layer);
      const auto staged = stager.take(layer);
      REQUIRE(staged);
      CHECK(stager.take(layer) == nullptr);  // taken once
      const auto stored = storedOf(*model, layer);
      int64_t total = 0;
      for (const moe::TensorInfo* t : stored) {
        INFO(t->name);
        const at::Tensor bytes = staged->bytes(*t);
        REQUIRE(bytes.defined());
        CHECK(bytes.device() == rt.device);
        const at::Tensor host = bytes.to(at::kCPU).contiguous();
        CHECK(std::memcmp(host.data_ptr<uint8_t>(), t->data, t->nbytes) == 0);
        total += static_cast<int64_t>(t->nbytes);
      }
      CHECK(staged->size() == stored.size());
      CHECK(staged->totalBytes() == total);
      // Read-ahead (and Auto on layers this small, which it leaves alone) stages nothing to read from.
      moe::LayerStager readAhead(model->store(), model->arch(), moe::Runtime::make("cpu", "fp32"), moe::Staging::Auto);
      CHECK_FALSE(readAhead.copies());
      readAhead.start(layer);
      CHECK(readAhead.take(layer) == nullptr);
      CHECK(readAhead.failure().empty());
    }
  }
}

TEST_CASE("a layer reads its weights from the staged copies, plain and quantized", "[staging]") {
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : {std::string("mixtral"), std::string("deepseek_v3-fp8"), std::string("gpt_oss-mxfp4")}) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      const int layer = model->moeLayers().back();
      // A copy with every byte changed: whatever the layer reads from it differs from the mapping.
      auto altered = std::make_shared<moe::StagedBytes>();
      for (const moe::TensorInfo* t : storedOf(*model, layer)) {
        at::Tensor bytes = at::empty({static_cast<int64_t>(t->nbytes)}, at::kByte);
        std::memcpy(bytes.data_ptr<uint8_t>(), t->data, t->nbytes);
        bytes = bytes.bitwise_xor(0x11).to(rt.device);
        altered->add(*t, bytes);
      }
      moe::LayerWeights plain(&model->store(), rt);
      moe::LayerWeights staged(&model->store(), rt, nullptr, altered);
      int compared = 0;
      for (const auto& spec : model->arch().layerTensors(layer)) {
        INFO(spec.name);
        const at::Tensor a = plain.get(spec.name), b = staged.get(spec.name);
        CHECK(a.sizes() == b.sizes());
        CHECK_FALSE(at::equal(a, b));
        ++compared;
      }
      CHECK(compared > 0);
      // The stacked experts too (read by fresh layers: the ones above have converted every tensor).
      const moe::MoeBlock fromPlain = model->arch().moeBlock(layer, moe::LayerWeights(&model->store(), rt));
      const moe::MoeBlock fromStaged =
          model->arch().moeBlock(layer, moe::LayerWeights(&model->store(), rt, nullptr, altered));
      CHECK_FALSE(at::equal(fromPlain.gate, fromStaged.gate));
      CHECK_FALSE(at::equal(fromPlain.down, fromStaged.down));
    }
  }
}

TEST_CASE("staging names its modes and refuses an unknown one", "[staging]") {
  CHECK(moe::parseStaging("off") == moe::Staging::Off);
  CHECK(moe::parseStaging("auto") == moe::Staging::Auto);
  CHECK(moe::parseStaging("copy") == moe::Staging::Copy);
  try {
    moe::parseStaging("pinned");
    FAIL("accepted");
  } catch (const moe::Error& e) {
    CHECK(std::string(e.what()).find("'pinned'") != std::string::npos);
  }
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("mixtral"), rt);
  // A stager destroyed with a staging in flight stops it and returns.
  {
    moe::LayerStager stager(model->store(), model->arch(), rt, moe::Staging::Copy, 64);
    stager.start(0);
  }
  CHECK_THROWS_AS(moe::LayerStager(model->store(), model->arch(), rt, moe::Staging::Copy, 0), moe::Error);
}
