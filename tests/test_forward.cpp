// The forward pass against transformers' own outputs (tests/data/hf-tiny/*/reference.h5 and
// hcsmoe_reference.h5), in fp32 compute on CPU. Tolerance: max abs error <= 1e-3 x max |reference|.
#include "tests/catch_torch.h"
#include "tests/fixtures.h"

#include <string>

#include "core/engine/model.h"
#include "core/nn/functional.h"
#include "core/error.h"
#include "core/engine/tensor_h5.h"
#include "core/io/h5file.h"

namespace {

const std::vector<std::string> kArchitectures = moe::test::fixtureArchitectures();

std::string fixture(const std::string& arch) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch; }

double relativeError(const at::Tensor& got, const at::Tensor& ref) {
  REQUIRE(got.sizes() == ref.sizes());
  const double scale = ref.abs().max().item<double>();
  return (got.to(at::kCPU, at::kFloat) - ref.to(at::kCPU, at::kFloat)).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

class Recorder : public moe::ForwardObserver {
 public:
  std::map<int, at::Tensor> hidden, router;
  void onHiddenState(int i, const at::Tensor& h) override { hidden[i] = h.clone(); }
  void onMoeBlock(const moe::MoeTrace& t) override { router[t.moeIndex] = t.routerLogits.clone(); }
};

}  // namespace

TEST_CASE("forward pass matches transformers on every architecture", "[forward]") {
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : kArchitectures) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      moe::h5::File ref(fixture(arch) + "/reference.h5", moe::h5::File::Mode::Read);
      Recorder rec;
      at::Tensor logits = model->forward(moe::readIntTensor(ref, "input_ids"), &rec);
      CHECK(relativeError(logits, moe::readFloatTensor(ref, "logits")) <= 1e-3);
      const auto hiddenNames = ref.children("hidden_states");
      CHECK(rec.hidden.size() == hiddenNames.size());
      for (const auto& name : hiddenNames) {
        INFO("hidden_states/" << name);
        const int i = std::stoi(name);
        REQUIRE(rec.hidden.count(i));
        CHECK(relativeError(rec.hidden[i], moe::readFloatTensor(ref, "hidden_states/" + name)) <= 1e-3);
      }
      if (ref.exists("router_logits")) {
        const auto routerNames = ref.children("router_logits");
        CHECK(rec.router.size() == routerNames.size());
        for (const auto& name : routerNames) {
          INFO("router_logits/" << name);
          const int j = std::stoi(name);
          REQUIRE(rec.router.count(j));
          CHECK(relativeError(rec.router[j], moe::readFloatTensor(ref, "router_logits/" + name)) <= 1e-3);
        }
      }
    }
  }
}

TEST_CASE("each MoE block reproduces its reference output from its reference input", "[forward][moe]") {
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : kArchitectures) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      moe::h5::File ref(fixture(arch) + "/hcsmoe_reference.h5", moe::h5::File::Mode::Read);
      const auto layers = ref.children("layers");
      REQUIRE(layers.size() == model->moeLayers().size());
      for (const auto& j : layers) {
        INFO("layers/" << j);
        const std::string g = "layers/" + j;
        moe::MoeBlock block = model->moeBlock(std::stoi(j));
        CHECK(block.numExperts() == static_cast<int64_t>(ref.readNumberAttribute(g, "num_experts")));
        // The block's on-disk prefix is the architecture's table entry for that layer.
        CHECK(model->arch().moePrefix(model->moeLayers()[std::stoul(j)]) == ref.readStringAttribute(g, "disk_prefix"));
        at::Tensor x = moe::readFloatTensor(ref, g + "/moe_input").to(rt.device);
        at::Tensor logits;
        at::Tensor out = block.forward(x, &logits);
        CHECK(relativeError(logits, moe::readFloatTensor(ref, g + "/router_logits")) <= 1e-3);
        CHECK(relativeError(out, moe::readFloatTensor(ref, g + "/moe_output")) <= 1e-3);
      }
    }
  }
}

TEST_CASE("bf16 compute stays close to the fp32 reference", "[forward][bf16]") {
  const auto rt = moe::test::runtime("bf16");
  auto model = moe::Model::open(fixture("mixtral"), rt);
  moe::h5::File ref(fixture("mixtral") + "/reference.h5", moe::h5::File::Mode::Read);
  at::Tensor logits = model->forward(moe::readIntTensor(ref, "input_ids"));
  CHECK(logits.scalar_type() == at::kBFloat16);
  // bf16 keeps 8 bits of mantissa; three layers of rounding stay within a few percent.
  CHECK(relativeError(logits, moe::readFloatTensor(ref, "logits")) <= 5e-2);
}

TEST_CASE("a forward pass can stop early and be cancelled", "[forward]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("mixtral"), rt);
  moe::h5::File ref(fixture("mixtral") + "/reference.h5", moe::h5::File::Mode::Read);
  at::Tensor ids = moe::readIntTensor(ref, "input_ids");
  struct Cancel : moe::ForwardObserver {
    int layers = 0;
    void onLayerDone(int, int) override { ++layers; }
    bool cancelled() const override { return layers >= 1; }
  } cancel;
  try {
    model->forward(ids, &cancel);
    FAIL("no cancellation");
  } catch (const moe::Error& e) {
    CHECK(e.kind() == moe::ErrorKind::Cancelled);
  }
  CHECK(cancel.layers == 1);
  Recorder rec;
  moe::ForwardOptions opts;
  opts.stopAfterLayer = 1;
  CHECK_FALSE(model->forward(ids, &rec, opts).defined());
  CHECK(rec.router.size() == 1);
  CHECK_THROWS_AS(model->forward(ids.add(100000)), moe::Error);  // ids beyond the vocabulary
}

TEST_CASE("bf16 products on the CPU agree with libtorch's own bf16 kernels", "[forward]") {
  // dense / matmul may multiply bf16 operands through fp32 (core/nn/functional.cpp); the result must be
  // libtorch's bf16 result up to bf16 rounding.
  const at::Tensor x = at::randn({37, 64}).to(at::kBFloat16), w = at::randn({48, 64}).to(at::kBFloat16);
  const at::Tensor b = at::randn({48}).to(at::kBFloat16);
  const at::Tensor mine = moe::dense(x, w, b), theirs = at::linear(x, w, b);
  CHECK(mine.scalar_type() == at::kBFloat16);
  CHECK(at::allclose(mine.to(at::kFloat), theirs.to(at::kFloat), 2e-2, 5e-2));
  const at::Tensor q = at::randn({3, 5, 16}).to(at::kBFloat16), k = at::randn({3, 16, 7}).to(at::kBFloat16);
  CHECK(at::allclose(moe::matmul(q, k).to(at::kFloat), at::matmul(q, k).to(at::kFloat), 2e-2, 5e-2));
}
