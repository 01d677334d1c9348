// Fitted compact routers (core/merge/router_fit.h) and the layer reconstruction error
// (core/eval/reconstruction.h). The demo checks use 4 calibration sequences and 4 evaluation
// evaluation sequences to stay fast; the full-protocol numbers are in the README.
#include "tests/catch_torch.h"

#include <string>
#include <vector>

#include "core/analysis/analyzer.h"
#include "core/analysis/clustering.h"
#include "core/cluster/tree.h"
#include "core/engine/model.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/eval/evaluate.h"
#include "core/eval/reconstruction.h"
#include "core/merge/merge.h"
#include "core/merge/plan.h"
#include "core/merge/router_fit.h"

namespace {

std::string demo(const std::string& name) { return std::string(MOESCOPE_DEMO_DIR) + "/" + name; }

// The demo model, its calibration tokens, its analysis and HC-SMoE plans, shared by the tests.
struct Demo {
  std::unique_ptr<moe::Model> model;
  at::Tensor calib, evalIds, reference;
  std::vector<moe::LayerStats> stats;
  moe::ReconstructionCache cache;

  static Demo& get() {
    static Demo d = [] {
      moe::initThreads();
      Demo d;
      d.model = moe::Model::open(demo("demo-moe"), moe::test::runtime("fp32"));
      moe::TokenSourceOptions cs;
      cs.sequences = 4;
      cs.length = 256;
      d.calib = moe::loadTokenIds(demo("calib.jsonl"), d.model->folder(), cs);
      moe::TokenSourceOptions es;
      es.sequences = 4;
      es.length = 256;
      d.evalIds = moe::loadTokenIds(demo("eval.jsonl"), d.model->folder(), es);
      d.reference = moe::finalHidden(*d.model, d.evalIds);
      d.stats = moe::runAnalysis(*d.model, d.calib, {}).layers;
      moe::ReconstructionOptions ro;
      ro.keepBlocks = true;
      d.cache = moe::ReconstructionCache::build(*d.model, d.calib, ro);
      return d;
    }();
    return d;
  }

  moe::MergePlan plan(int64_t K) const {
    moe::MergePlan p;
    p.modelFingerprint = "test";
    for (const auto& s : stats) {
      const moe::LayerTree tree = moe::buildLayerTree(s, moe::ClusteringChoice{});
      p.layers.push_back(moe::mergeLayerPlan(s.moeIndex, moe::cutTree(tree.linkage, K),
                                             moe::MergeStrategy::FrequencyWeighted, s.usageFrequency));
    }
    return p;
  }

  double perplexity(const moe::MergePlan& p, moe::MergeSemantics sem, const moe::CompactRouterHook& hook = {}) {
    moe::ForwardOptions fo;
    fo.moeOverride = moe::planOverride(p, sem, hook);
    return moe::evaluate(*model, evalIds, fo, reference).perplexity;
  }
};

// Compact logits of a block under a plan entry and a hook, on the cached (original) inputs.
at::Tensor compactLogits(const Demo& d, const moe::LayerPlan& lp, const moe::CompactRouterHook& hook) {
  const moe::MoeBlock& original = *d.cache.block(lp.moeIndex);
  moe::MoeBlock c = moe::applyLayerPlan(original, lp, moe::MergeSemantics::Compact, hook);
  return c.routerLogits(d.cache.input(lp.moeIndex)).to(at::kDouble);
}

std::vector<at::Tensor> groupColumns(const at::Tensor& L, const moe::LayerPlan& lp) {
  std::vector<at::Tensor> out;
  for (const auto& m : lp.members()) out.push_back(L.index_select(1, at::tensor(m, at::kLong).to(L.device())));
  return out;
}

}  // namespace

TEST_CASE("ridge regression reproduces a linear target exactly", "[router-fit]") {
  at::manual_seed(7);
  at::Tensor X = at::randn({400, 6}, at::kDouble);
  at::Tensor B = at::randn({3, 6}, at::kDouble);
  at::Tensor c = at::randn({3}, at::kDouble);
  at::Tensor fit = moe::ridgeRegression(X, X.mm(B.t()) + c, 0.0, true);
  REQUIRE(fit.sizes() == at::IntArrayRef({3, 7}));
  CHECK(at::allclose(fit.narrow(1, 0, 6), B, 1e-8, 1e-8));
  CHECK(at::allclose(fit.select(1, 6), c, 1e-8, 1e-8));
  at::Tensor noIntercept = moe::ridgeRegression(X.to(at::kFloat), X.mm(B.t()).to(at::kFloat), 0.0, false);
  CHECK(at::allclose(noIntercept, B, 1e-4, 1e-4));
  // Ridge shrinks.
  CHECK(moe::ridgeRegression(X, X.mm(B.t()), 10.0, false).norm().item<double>() < B.norm().item<double>());
  CHECK_THROWS_AS(moe::ridgeRegression(X, at::zeros({3, 2}), 0.0, false), moe::Error);
}

TEST_CASE("router modes round-trip through their JSON names", "[router-fit][plan]") {
  for (auto m : {moe::RouterMode::Average, moe::RouterMode::FrequencyWeighted, moe::RouterMode::LseFit,
                 moe::RouterMode::SoftFit, moe::RouterMode::TiedFit})
    CHECK(moe::parseRouterMode(moe::routerModeName(m)) == m);
  CHECK(std::string(moe::routerModeName(moe::RouterMode::LseFit)) == "lse-fit");
  CHECK(std::string(moe::routerModeName(moe::RouterMode::SoftFit)) == "soft-fit");
  CHECK(std::string(moe::routerModeName(moe::RouterMode::TiedFit)) == "tied-fit");
  CHECK_THROWS_AS(moe::parseRouterMode("magic"), moe::Error);
  CHECK(moe::isFittedRouter(moe::RouterMode::LseFit));
  CHECK_FALSE(moe::isFittedRouter(moe::RouterMode::FrequencyWeighted));
}

TEST_CASE("each fitted router improves on the plain average in what it fits", "[router-fit][demo]") {
  Demo& d = Demo::get();
  const moe::MergePlan plan = d.plan(8);
  const moe::CompactRouterHook lse = moe::makeRouterHook(moe::RouterMode::LseFit, *d.model, d.calib, plan);
  const moe::CompactRouterHook soft = moe::makeRouterHook(moe::RouterMode::SoftFit, *d.model, d.calib, plan);
  REQUIRE(lse);
  REQUIRE(soft);
  CHECK_FALSE(moe::makeRouterHook(moe::RouterMode::Average, *d.model, d.calib, plan));
  for (const auto& lp : plan.layers) {
    INFO("MoE block " << lp.moeIndex);
    const moe::MoeBlock& original = *d.cache.block(lp.moeIndex);
    at::Tensor L = original.routerLogits(d.cache.input(lp.moeIndex)).to(at::kDouble);
    std::vector<at::Tensor> lseCols, probCols;
    for (const auto& cols : groupColumns(L, lp)) lseCols.push_back(at::logsumexp(cols, 1));
    at::Tensor P = at::softmax(L, 1);
    for (const auto& cols : groupColumns(P, lp)) probCols.push_back(cols.sum(1));
    const at::Tensor lseTarget = at::stack(lseCols, 1), probTarget = at::stack(probCols, 1);

    // lse-fit: squared error to the groups' logsumexp.
    auto mse = [&](const at::Tensor& C) { return (C - lseTarget).pow(2).mean().item<double>(); };
    const double mseAvg = mse(compactLogits(d, lp, {})), mseLse = mse(compactLogits(d, lp, lse));
    CHECK(mseLse < 0.5 * mseAvg);
    // soft-fit: cross-entropy against the summed member probabilities.
    auto ce = [&](const at::Tensor& C) { return -(probTarget * at::log_softmax(C, 1)).sum(1).mean().item<double>(); };
    const double ceAvg = ce(compactLogits(d, lp, {})), ceLse = ce(compactLogits(d, lp, lse));
    const double ceSoft = ce(compactLogits(d, lp, soft));
    CHECK(ceSoft < ceAvg);
    CHECK(ceSoft <= ceLse + 1e-9);
  }
}

TEST_CASE("the tied-fit router brings the compact model close to the tied one at 8 of 16", "[router-fit][demo]") {
  Demo& d = Demo::get();
  const moe::MergePlan plan = d.plan(8);
  moe::RouterFitOptions opt;
  opt.iterations = 20;
  opt.refineOutput = false;  // the cross-entropy stage alone (the output stage is slow; measured outside the tests)
  const moe::CompactRouterHook tied = moe::makeRouterHook(moe::RouterMode::TiedFit, *d.model, d.calib, plan, opt);
  REQUIRE(tied);
  const double pplTied = d.perplexity(plan, moe::MergeSemantics::Tied);
  const double pplAvg = d.perplexity(plan, moe::MergeSemantics::Compact);
  const double pplFit = d.perplexity(plan, moe::MergeSemantics::Compact, tied);
  INFO("tied " << pplTied << ", compact average " << pplAvg << ", compact tied-fit " << pplFit);
  CHECK(pplFit < pplAvg);
  // Most of the gap to the tied model is closed (full protocol: +2.4 % vs +16 %; here, with 8
  // calibration sequences, less).
  CHECK(pplFit - pplTied < 0.6 * (pplAvg - pplTied));
  // Its layer reconstruction error is lower than the average router's in every block.
  const auto avgErr = moe::reconstructionErrors(d.cache, *d.model, plan);
  const auto fitErr = moe::reconstructionErrors(d.cache, *d.model, plan, tied);
  for (size_t j = 0; j < avgErr.size(); ++j) {
    INFO("MoE block " << j);
    CHECK(fitErr[j].compact < avgErr[j].compact);
    CHECK(fitErr[j].tied == Approx(avgErr[j].tied));
  }
}

TEST_CASE("layer reconstruction error", "[reconstruction][demo]") {
  Demo& d = Demo::get();
  REQUIRE(d.cache.numBlocks() == static_cast<int>(d.model->moeLayers().size()));
  CHECK(d.cache.tokens() == 1024);  // all of the 4 x 256 calibration tokens (at most 2048 are kept)
  const int64_t E = d.model->arch().numExperts();

  // The cached outputs are the block's own forward on the cached inputs.
  for (int j = 0; j < d.cache.numBlocks(); ++j)
    CHECK(moe::relativeL2(d.cache.block(j)->forward(d.cache.input(j)), d.cache.output(j)) < 1e-5);

  // Identity plans (keep, and a merge with K = E) reconstruct exactly.
  moe::MergePlan keep, full;
  for (int j = 0; j < d.cache.numBlocks(); ++j) {
    keep.layers.push_back(moe::keepLayerPlan(j, E));
    std::vector<int64_t> id(static_cast<size_t>(E));
    for (int64_t e = 0; e < E; ++e) id[static_cast<size_t>(e)] = e;
    full.layers.push_back(moe::mergeLayerPlan(j, id, moe::MergeStrategy::FrequencyWeighted, d.stats[static_cast<size_t>(j)].usageFrequency));
  }
  for (const auto& r : moe::reconstructionErrors(d.cache, *d.model, keep)) {
    CHECK(r.tied == 0.0);
    CHECK(r.compact == 0.0);
  }
  for (const auto& r : moe::reconstructionErrors(d.cache, *d.model, full)) {
    CHECK(r.tied < 1e-5);
    CHECK(r.compact < 1e-5);
  }

  // Grows as K shrinks.
  std::vector<std::vector<moe::LayerReconstruction>> byK;
  for (int64_t K : {12, 6, 2}) byK.push_back(moe::reconstructionErrors(d.cache, *d.model, d.plan(K)));
  for (size_t j = 0; j < byK[0].size(); ++j)
    for (size_t i = 1; i < byK.size(); ++i) {
      INFO("block " << j << ", step " << i);
      CHECK(byK[i][j].tied > byK[i - 1][j].tied);
      CHECK(byK[i][j].compact > 0.0);
    }

  // Agrees with a direct computation on freshly loaded blocks.
  const moe::MergePlan plan = d.plan(8);
  const auto errs = moe::reconstructionErrors(d.cache, *d.model, plan);
  for (const auto& lp : plan.layers) {
    const moe::MoeBlock block = d.model->moeBlock(lp.moeIndex);
    const at::Tensor x = d.cache.input(lp.moeIndex);
    const at::Tensor y = block.forward(x);
    for (auto sem : {moe::MergeSemantics::Tied, moe::MergeSemantics::Compact}) {
      const at::Tensor m = moe::applyLayerPlan(block, lp, sem).forward(x);
      const double direct = ((m - y).norm() / y.norm()).item<double>();
      const auto& r = errs[static_cast<size_t>(lp.moeIndex)];
      CHECK((sem == moe::MergeSemantics::Tied ? r.tied : r.compact) == Approx(direct).epsilon(1e-4));
    }
  }
}

namespace {

// KL(p || q) of next-token distributions, averaged over positions, in float64.
double meanKL(const at::Tensor& pLogits, const at::Tensor& qLogits) {
  const at::Tensor lp = at::log_softmax(pLogits.to(at::kCPU, at::kDouble), -1);
  const at::Tensor lq = at::log_softmax(qLogits.to(at::kCPU, at::kDouble), -1);
  return (lp.exp() * (lp - lq)).sum(-1).mean().item<double>();
}

}  // namespace

// Every architecture's routing rule (softmax with and without renormalisation, gpt-oss' router bias
// and softmax over the top-k, DeepSeek's sigmoid with groups and correction bias): tied-fit, fitted
// on a tiny fixture's 256 calibration tokens, must bring the compact model much closer to the tied
// (paper) model on those tokens than the plain-average router does. (On the fixtures' 48 held-out
// tokens the random, untrained routers generalise unevenly; the demo tests and the README measure
// held-out quality on a trained model.) DeepSeek's sigmoid routing is fitted with lse-fit: only a
// strict improvement is asked there.
TEST_CASE("tied-fit moves every architecture's compact model towards the tied one", "[router-fit][arch]") {
  moe::initThreads();
  for (const char* arch : {"mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "granitemoe", "deepseek_v3", "gpt_oss"}) {
    DYNAMIC_SECTION(arch) {
      const std::string dir = std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch;
      auto model = moe::Model::open(dir, moe::test::runtime("fp32"));
      const at::Tensor calib = moe::loadTokenIds(dir + "/hcsmoe_reference.h5:calib_ids", dir, {});
      const auto stats = moe::runAnalysis(*model, calib, {}).layers;
      moe::MergePlan plan;
      plan.modelFingerprint = "test";
      for (const auto& s : stats) {
        const moe::LayerTree tree = moe::buildLayerTree(s, moe::ClusteringChoice{});
        plan.layers.push_back(moe::mergeLayerPlan(s.moeIndex, moe::cutTree(tree.linkage, (s.numExperts + 1) / 2),
                                                  moe::MergeStrategy::FrequencyWeighted, s.usageFrequency));
      }
      auto logits = [&](moe::MergeSemantics sem, const moe::CompactRouterHook& hook) {
        moe::ForwardOptions fo;
        fo.moeOverride = moe::planOverride(plan, sem, hook);
        return model->forward(calib, nullptr, fo);
      };
      const moe::CompactRouterHook fit = moe::makeRouterHook(moe::RouterMode::TiedFit, *model, calib, plan);
      REQUIRE(fit);
      const at::Tensor tied = logits(moe::MergeSemantics::Tied, {});
      const double klAverage = meanKL(tied, logits(moe::MergeSemantics::Compact, {}));
      const double klFit = meanKL(tied, logits(moe::MergeSemantics::Compact, fit));
      INFO("KL(tied || compact): average router " << klAverage << ", tied-fit " << klFit);
      CHECK(klAverage > 1e-4);  // the plain-average router does leave a gap to close
      CHECK(klFit < (std::string(arch) == "deepseek_v3" ? 1.0 : 0.25) * klAverage);
    }
  }
}
