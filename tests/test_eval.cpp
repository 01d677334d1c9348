// Perplexity and KL against numbers measured outside MoEScope: the demo model's held-out
// perplexity under the protocol of the shared data README is 77.5 (transformers).
#include "tests/catch_torch.h"

#include "core/engine/token_source.h"
#include "core/eval/evaluate.h"

namespace {
std::string demo(const std::string& name) { return std::string(MOESCOPE_DEMO_DIR) + "/" + name; }
}  // namespace

TEST_CASE("the demo model's held-out perplexity is 77.5 under the reference protocol", "[eval]") {
  moe::initThreads();
  auto model = moe::Model::open(demo("demo-moe"), moe::test::runtime("fp32"));
  moe::TokenSourceOptions src;
  src.length = 256;
  src.allSequences = true;
  at::Tensor ids = moe::loadTokenIds(demo("eval.jsonl"), model->folder(), src);
  CHECK(ids.size(1) == 256);
  const moe::EvalResult r = moe::evaluate(*model, ids);
  CHECK(r.predicted == ids.size(0) * 255);
  CHECK(r.perplexity == Approx(77.5).epsilon(0.001));
}

TEST_CASE("KL is zero against itself and positive against a perturbed model", "[eval]") {
  auto model = moe::Model::open(demo("demo-moe"), moe::test::runtime("fp32"));
  moe::TokenSourceOptions src;
  src.sequences = 2;
  src.length = 64;
  at::Tensor ids = moe::loadTokenIds(demo("eval.jsonl"), model->folder(), src);
  at::Tensor reference = moe::finalHidden(*model, ids);
  const moe::EvalResult same = moe::evaluate(*model, ids, {}, reference);
  CHECK(std::abs(same.meanKl) < 1e-6);
  moe::ForwardOptions perturbed;
  // Every token routed through expert 0's weights: a different model, so KL > 0 and usually worse perplexity.
  perturbed.moeOverride = [](int, moe::MoeBlock& b) { b.expertSlot.assign(static_cast<size_t>(b.numExperts()), 0); };
  const moe::EvalResult other = moe::evaluate(*model, ids, perturbed, reference);
  CHECK(other.meanKl > 1e-3);
  CHECK(other.perplexity != Approx(same.perplexity));
}
