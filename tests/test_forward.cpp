// The forward pass against transformers' own outputs (tests/data/hf-tiny/*/reference.h5 and
// hcsmoe_reference.h5), in fp32 compute on CPU. Tolerance: max abs error <= 1e-3 x max |reference|.
#include "tests/catch_torch.h"
#include "tests/fixtures.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <string>

#include "core/engine/model.h"
#include "core/nn/functional.h"
#include "core/nn/gram.h"
#include "core/nn/small_rows_linear.h"
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

TEST_CASE("a bf16 run computes the router in float32 where transformers does", "[forward][bf16]") {
  // transformers' DeepSeek-V3/V3.2 and GLM-4.5 routers (F.linear of both operands cast to float32),
  // ERNIE-4.5's gate (autocast off, float32) and Kimi-K2's remote code (DeepSeek's MoEGate) compute
  // the logits in float32 in a bf16 model; the others' routers run in the model's dtype.
  const auto rt = moe::test::runtime("bf16");
  at::manual_seed(5);
  for (const auto& [name, float32] : std::vector<std::pair<std::string, bool>>{{"deepseek_v3", true},
                                                                           {"deepseek_v32", true},
                                                                           {"kimi_k2", true},
                                                                           {"glm4_moe", true},
                                                                           {"ernie4_5_moe", true},
                                                                           {"qwen2_moe", false},
                                                                           {"qwen3_moe", false},
                                                                           {"mixtral", false},
                                                                           {"olmoe", false},
                                                                           {"minimax_m2", false}}) {
    INFO(name);
    auto model = moe::Model::open(fixture(name), rt);
    const moe::MoeBlock block = model->moeBlock(0);
    const at::Tensor x = at::randn({7, block.hiddenSize()}).to(at::kBFloat16);
    const at::Tensor logits = block.routerLogits(x);
    CHECK(block.routerFloat32 == float32);
    CHECK(logits.scalar_type() == (float32 ? at::kFloat : at::kBFloat16));
    // Against a float64 product of the same bf16 values: float32 sums, or bf16's rounding of them.
    at::Tensor want = at::linear(x.to(at::kDouble), block.routerWeight.to(at::kDouble));
    if (block.routerBias.defined()) want = want + block.routerBias.to(at::kDouble);
    const double worst = (logits.to(at::kDouble) - want).abs().max().item<double>() / want.abs().max().item<double>();
    CHECK(worst < (float32 ? 1e-6 : 1e-2));
    if (!float32) continue;
    // The parameters the reference keeps in float32 in a bf16 model (_keep_in_fp32_modules_strict):
    // the correction bias, and ERNIE's gate; the values stored, as an fp32 runtime reads them.
    const moe::MoeBlock exact = moe::Model::open(fixture(name), moe::test::runtime("fp32"))->moeBlock(0);
    REQUIRE(block.correctionBias.defined());
    CHECK(block.correctionBias.scalar_type() == at::kFloat);
    CHECK(at::equal(block.correctionBias, exact.correctionBias));
    if (name == "ernie4_5_moe") CHECK(at::equal(block.routerWeight, exact.routerWeight));
  }
}

TEST_CASE("a float32 router's converted weight follows the block's router", "[forward][bf16]") {
  // The float32 copy is kept per block: asked again it must not reuse the copy of a router that was
  // replaced (merges and router fits assign new routers to copied blocks).
  const moe::MoeBlock original = moe::Model::open(fixture("deepseek_v3"), moe::test::runtime("bf16"))->moeBlock(0);
  REQUIRE(original.routerFloat32);
  const at::Tensor x = at::randn({5, original.hiddenSize()}).to(at::kBFloat16);
  auto wanted = [&](const moe::MoeBlock& b) { return at::linear(x.to(at::kFloat), b.routerWeight.to(at::kFloat)); };
  CHECK(at::allclose(original.routerLogits(x), wanted(original), 1e-5, 1e-6));
  CHECK(at::equal(original.routerLogits(x), original.routerLogits(x)));
  moe::MoeBlock changed = original;  // a copy, used, then given a new router
  CHECK(at::equal(changed.routerLogits(x), original.routerLogits(x)));
  changed.routerWeight = (original.routerWeight.to(at::kFloat) * -2.0).to(at::kBFloat16);
  CHECK(at::allclose(changed.routerLogits(x), wanted(changed), 1e-5, 1e-6));
  CHECK(at::allclose(changed.routerLogits(x), original.routerLogits(x) * -2.0, 1e-5, 1e-6));
  changed.routerWeight = original.routerWeight;  // and back
  CHECK(at::equal(changed.routerLogits(x), original.routerLogits(x)));
}

TEST_CASE("a bf16 run's RMSNorm rounds as transformers' does, Llama's and gpt-oss' orders apart", "[forward][bf16]") {
  // tests/data/norms/rmsnorm_bf16.h5 (scripts/fixtures/make_norm_reference.py): transformers'
  // LlamaRMSNorm in bf16 (states rounded to bf16, then times the bf16 weight) and GptOssRMSNorm in
  // bf16 (the bf16 weight times the float32 states in float32, rounded once). On these inputs the two
  // orders give different bf16 values in a quarter of the elements; the reductions of two libtorch builds
  // may still differ in a last bit now and then, so a few elements may differ by one bf16 step.
  moe::h5::File ref(std::string(MOESCOPE_TEST_DATA) + "/norms/rmsnorm_bf16.h5", moe::h5::File::Mode::Read);
  auto differing = [](const at::Tensor& got, const at::Tensor& want) {
    return (got.to(at::kFloat) - want).abs().gt(0).sum().item<int64_t>();
  };
  const auto bf16 = moe::test::runtime("bf16");
  auto gptOss = moe::Model::open(fixture("gpt_oss"), bf16);
  auto mixtral = moe::Model::open(fixture("mixtral"), bf16);
  for (const std::string group : {"llama", "gpt_oss"}) {
    INFO(group);
    const at::Tensor x = moe::readFloatTensor(ref, group + "/x").to(at::kBFloat16);
    const at::Tensor weight = moe::readFloatTensor(ref, group + "/weight").to(at::kBFloat16);
    const at::Tensor want = moe::readFloatTensor(ref, group + "/out");
    const int64_t few = want.numel() / 100;
    const bool isGptOss = group == "gpt_oss";
    // Both norms run with their fixture's rms_norm_eps: the reference's, or the comparison is moot.
    CHECK(gptOss->config().rmsNormEps == ref.readNumberAttribute(group, "eps"));
    CHECK(mixtral->config().rmsNormEps == ref.readNumberAttribute(group, "eps"));
    const at::Tensor out = (isGptOss ? gptOss->arch() : mixtral->arch()).norm(x, weight);
    CHECK(out.scalar_type() == at::kBFloat16);
    CHECK(differing(out, want) <= few);
    CHECK(((out.to(at::kFloat) - want).abs() <= want.abs() * (1.0 / 128)).all().item<bool>());  // one bf16 step
    // The other order misses the reference in many elements: the fixture tells the two apart.
    CHECK(differing((isGptOss ? mixtral->arch() : gptOss->arch()).norm(x, weight), want) > 10 * few);
  }
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

TEST_CASE("the library's own parallel loops run on libtorch's threads", "[forward][threads]") {
  // at::parallel_for is compiled into the library: built without OpenMP it silently runs serially
  // (the bf16 widening, the decoding kernel and the weight Gram then use one core).
  const int before = at::get_num_threads();
  for (int threads : {2, 3}) {
    moe::initThreads(threads);
    CHECK(moe::coreParallelThreads() == threads);
  }
  moe::initThreads(1);
  CHECK(moe::coreParallelThreads() == 1);
  moe::initThreads(before);
}

namespace {
// addGram(rows, ., sums) run on 1, 2 and 3 threads, each time added to a copy of one random start
// (it adds to what is there, symmetric or not), against a long-double sum of the same values.
struct GramRun {
  double worst = 0;       // the 1-thread result's largest difference, relative to |a_i| |a_j|
  bool sameBits = false;  // the three thread counts gave the same bits
  bool symmetric = false; // from zero, the result is exactly symmetric
};
GramRun runGram(const at::Tensor& rows, moe::GramSums sums) {
  const int64_t S = rows.size(0), N = rows.size(1);
  const at::Tensor r64 = rows.to(at::kDouble).contiguous();
  const double* r = r64.data_ptr<double>();
  std::vector<long double> want(static_cast<size_t>(S * S));
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < S; ++j) {
      long double sum = 0;
      for (int64_t k = 0; k < N; ++k) sum += static_cast<long double>(r[i * N + k]) * r[j * N + k];
      want[static_cast<size_t>(i * S + j)] = sum;
    }
  const at::Tensor start = at::rand({S, S}, at::kDouble);
  std::vector<at::Tensor> got;
  for (int threads : {1, 2, 3}) {
    moe::initThreads(threads);
    at::Tensor g = start.clone();
    moe::addGram(rows, g, sums);
    got.push_back(g);
  }
  GramRun run;
  const double* g = got[0].data_ptr<double>();
  const double* s0 = start.data_ptr<double>();
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < S; ++j) {
      const long double scale = std::sqrt(want[static_cast<size_t>(i * S + i)] * want[static_cast<size_t>(j * S + j)]);
      const long double added = static_cast<long double>(g[i * S + j]) - s0[i * S + j];
      run.worst = std::max<double>(run.worst, std::fabs(added - want[static_cast<size_t>(i * S + j)]) / scale);
    }
  run.sameBits = at::equal(got[0], got[1]) && at::equal(got[0], got[2]);
  at::Tensor fromZero = at::zeros({S, S}, at::kDouble);
  moe::addGram(rows, fromZero, sums);
  run.symmetric = at::equal(fromZero, fromZero.t());
  return run;
}
}  // namespace

TEST_CASE("the float64 Gram of long rows equals a long-double sum, on any thread count", "[forward][gram]") {
  // Shapes around the kernel's edges: rows not a multiple of its 8-row panels, columns not a
  // multiple of its conversion chunk, fewer columns than one chunk, a single row.
  const int before = at::get_num_threads();
  for (const auto& [S, N] : std::vector<std::pair<int64_t, int64_t>>{{1, 7}, {5, 300}, {8, 256}, {13, 1031}, {60, 5000}, {130, 700}}) {
    for (at::ScalarType dtype : {at::kBFloat16, at::kFloat, at::kDouble}) {
      INFO("S = " << S << ", N = " << N << ", dtype " << c10::toString(dtype));
      // Near-duplicate rows too: the Gram is kept in float64 for their distances.
      at::Tensor rows = at::randn({S, N}, at::kDouble);
      if (S > 2) rows[1] = rows[0] + 1e-4 * rows[2];
      rows = rows.to(dtype);
      const GramRun run = runGram(rows, moe::GramSums::Float64);
      CHECK(run.worst < 1e-13);
      CHECK(run.sameBits);  // bit for bit, whatever the thread count
      CHECK(run.symmetric);
    }
  }
  // A view of the first half of each row (not contiguous) is read as its values.
  const at::Tensor wide = at::randn({9, 600}, at::kDouble);
  at::Tensor g = at::zeros({9, 9}, at::kDouble), want = wide.narrow(1, 0, 300).mm(wide.narrow(1, 0, 300).t());
  moe::addGram(wide.narrow(1, 0, 300), g);
  CHECK(at::allclose(g, want, 1e-12, 1e-12));
  at::Tensor wrong = at::zeros({8, 8}, at::kDouble);
  CHECK_THROWS_AS(moe::addGram(wide, wrong), moe::Error);
  moe::initThreads(before);
}

TEST_CASE("bf16 rows summed in float32 blocks stay within the stated bound of a long-double sum", "[forward][gram]") {
  // GramSums::Float32Blocks (a bf16 analysis' weight Gram): each entry within 64 * 2^-24 of
  // |a_i| |a_j|. Shapes around the kernel's edges: rows not a multiple of its 4-row tiles, columns
  // not a multiple of its 32-value steps, past one flush into float64 (960 columns) and past one
  // pass of columns (3840 at most); a row spanning 12 decades; near-duplicate rows.
  const bool native = moe::cpuHasAvx512Bf16();
  if (!native) WARN("this CPU has no AVX512-BF16: Float32Blocks falls back to float64 sums here");
  const int before = at::get_num_threads();
  constexpr double kBound = 64.0 / (1 << 24);
  for (const auto& [S, N] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 7}, {3, 33}, {5, 300}, {8, 1024}, {13, 1031}, {9, 4097}, {60, 20000}, {130, 700}}) {
    INFO("S = " << S << ", N = " << N);
    at::Tensor rows = at::randn({S, N}, at::kDouble);
    if (S > 2) rows[1] = rows[0] + 1e-2 * rows[2];
    if (S > 3) rows[3] = rows[3] * at::pow(10.0, at::randint(-6, 6, {N}, at::kDouble));
    rows = rows.to(at::kBFloat16);
    const GramRun run = runGram(rows, moe::GramSums::Float32Blocks);
    CHECK(run.worst < (native ? kBound : 1e-13));
    CHECK(run.sameBits);  // bit for bit, whatever the thread count
    CHECK(run.symmetric);
  }
  // Rows of other types, and non-contiguous bf16 views, take the float64 sums or their own copy.
  const at::Tensor wide = at::randn({9, 600}).to(at::kBFloat16);
  const at::Tensor half = wide.narrow(1, 0, 300);
  at::Tensor g = at::zeros({9, 9}, at::kDouble), want = half.to(at::kDouble).mm(half.to(at::kDouble).t());
  moe::addGram(half, g, moe::GramSums::Float32Blocks);
  const at::Tensor norms = want.diagonal().sqrt();
  CHECK(((g - want).abs() / at::outer(norms, norms)).max().item<double>() < kBound);
  const at::Tensor f32 = at::randn({7, 500});
  at::Tensor a = at::zeros({7, 7}, at::kDouble), b = at::zeros({7, 7}, at::kDouble);
  moe::addGram(f32, a, moe::GramSums::Float32Blocks);
  moe::addGram(f32, b);
  CHECK(at::equal(a, b));
  moe::initThreads(before);
}

TEST_CASE("bf16 products on the CPU agree with libtorch's own bf16 kernels", "[forward]") {
  // dense may multiply bf16 operands through fp32 or the small-rows kernel (core/nn/functional.cpp); the
  // result must be libtorch's bf16 result up to bf16 rounding, whatever the row count.
  for (int64_t rows : {1, 2, 3, 16, 37}) {
    const at::Tensor x = at::randn({rows, 64}).to(at::kBFloat16), w = at::randn({48, 64}).to(at::kBFloat16);
    const at::Tensor b = at::randn({48}).to(at::kBFloat16);
    const at::Tensor mine = moe::dense(x, w, b), theirs = at::linear(x, w, b);
    CHECK(mine.scalar_type() == at::kBFloat16);
    CHECK(at::allclose(mine.to(at::kFloat), theirs.to(at::kFloat), 2e-2, 5e-2));
  }
}

TEST_CASE("The small-rows bf16 kernel equals an fp64 product of the same bf16 values", "[forward]") {
  // Every path of the kernel: one or two rows straight from bf16, more rows through the widened
  // buffer, output counts that are and are not multiples of its block of 4, inputs that are and are
  // not multiples of 8, a bias, a 3-D input and a non-contiguous one.
  try {
    moe::smallRowsLinear(at::zeros({1, 8}).to(at::kBFloat16), at::zeros({4, 8}).to(at::kBFloat16));
  } catch (const moe::Error&) {
    WARN("this CPU has no AVX2/FMA: the kernel is never used here");
    return;
  }
  at::manual_seed(3);
  for (int64_t rows : {1, 2, 3, 5, 16, 17})
    for (int64_t in : {1, 7, 8, 13, 200})
      for (int64_t out : {1, 4, 6, 37}) {
        const at::Tensor x = at::randn({rows, in}).to(at::kBFloat16), w = at::randn({out, in}).to(at::kBFloat16);
        const at::Tensor b = at::randn({out}).to(at::kBFloat16);
        for (bool bias : {false, true}) {
          const at::Tensor got = moe::smallRowsLinear(x, w, bias ? b : at::Tensor());
          const at::Tensor ref = bias ? at::linear(x.to(at::kDouble), w.to(at::kDouble), b.to(at::kDouble))
                                      : at::linear(x.to(at::kDouble), w.to(at::kDouble));
          INFO("rows " << rows << ", in " << in << ", out " << out << ", bias " << bias);
          REQUIRE(got.sizes() == ref.sizes());
          CHECK(got.scalar_type() == at::kBFloat16);
          // One bf16 rounding of the result (relative 2^-9) plus fp32 accumulation.
          CHECK(at::allclose(got.to(at::kDouble), ref, 4e-3, 1e-4 * std::sqrt(static_cast<double>(in))));
        }
      }
  const at::Tensor x3 = at::randn({2, 3, 40}).to(at::kBFloat16), w = at::randn({9, 40}).to(at::kBFloat16);
  const at::Tensor ref3 = at::linear(x3.to(at::kDouble), w.to(at::kDouble));
  CHECK(at::allclose(moe::smallRowsLinear(x3, w).to(at::kDouble), ref3, 4e-3, 1e-3));
  const at::Tensor xt = at::randn({40, 5}).to(at::kBFloat16).t();  // [5, 40], not contiguous
  CHECK(at::allclose(moe::smallRowsLinear(xt, w).to(at::kDouble), at::linear(xt.to(at::kDouble), w.to(at::kDouble)),
                     4e-3, 1e-3));
  CHECK_THROWS_AS(moe::smallRowsLinear(x3, at::randn({9, 41}).to(at::kBFloat16)), moe::Error);
  // The widening used by products through fp32: exact, any size (tails of 1-7), strided or not.
  for (int64_t n : {1, 7, 8, 9, 100003}) {
    const at::Tensor t = at::randn({n}).to(at::kBFloat16);
    CHECK(at::equal(moe::toFloat(t), t.to(at::kFloat)));
  }
  const at::Tensor m = at::randn({37, 13}).to(at::kBFloat16);
  CHECK(at::equal(moe::toFloat(m), m.to(at::kFloat)));
  CHECK(at::equal(moe::toFloat(m.t()), m.t().to(at::kFloat)));
  CHECK(moe::toFloat(m).sizes() == m.sizes());
}
