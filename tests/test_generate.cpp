// Generation (core/eval/generate.h) against transformers' greedy `generate` (generation.h5 of the
// demo model and of one fixture per routing family, scripts/fixtures/make_generation_reference.py),
// the KV cache against recomputation, SCMoE, sampling, and the agreement metrics.
#include "tests/catch_torch.h"
#include "tests/fixtures.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/eval/agreement.h"
#include "core/eval/evaluate.h"
#include "core/eval/generate.h"
#include "core/eval/generation_preview.h"
#include "core/io/h5file.h"

namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string& arch) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch; }
std::string demoModel() { return std::string(MOESCOPE_DEMO_DIR) + "/demo-moe"; }

struct Reference {
  std::vector<std::vector<int64_t>> prompts, tokens;
  double margin = 0;
};

Reference readReference(const std::string& path) {
  moe::h5::File f(path, moe::h5::File::Mode::Read);
  const at::Tensor ids = moe::readIntTensor(f, "prompt_ids").to(at::kLong);
  const at::Tensor lengths = moe::readIntTensor(f, "prompt_lengths").to(at::kLong);
  const at::Tensor tokens = moe::readIntTensor(f, "new_tokens").to(at::kLong);
  Reference r;
  for (int64_t i = 0; i < ids.size(0); ++i) {
    const int64_t n = lengths[i].item<int64_t>();
    const at::Tensor row = ids[i].narrow(0, 0, n).contiguous();
    r.prompts.emplace_back(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + n);
    const at::Tensor t = tokens[i].contiguous();
    r.tokens.emplace_back(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
  }
  r.margin = f.readNumberAttribute("/", "min_top2_margin");
  return r;
}

// Every folder with a generation.h5: the demo model's lives under tests/data/generation/.
std::vector<std::pair<std::string, std::string>> generationCases() {
  std::vector<std::pair<std::string, std::string>> cases{
      {demoModel(), std::string(MOESCOPE_TEST_DATA) + "/generation/demo-moe.h5"}};
  for (const std::string& arch : moe::test::fixtureArchitectures())
    if (fs::exists(fixture(arch) + "/generation.h5")) cases.push_back({fixture(arch), fixture(arch) + "/generation.h5"});
  return cases;
}

std::vector<std::vector<int64_t>> tokensOf(const std::vector<moe::Continuation>& c) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& x : c) out.push_back(x.tokens);
  return out;
}

}  // namespace

TEST_CASE("greedy generation matches transformers token for token", "[generate]") {
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  const auto cases = generationCases();
  REQUIRE(cases.size() >= 5);  // the demo and the routing families
  for (const auto& [folder, refPath] : cases) {
    DYNAMIC_SECTION(fs::path(folder).filename().string()) {
      const Reference ref = readReference(refPath);
      auto model = moe::Model::open(folder, rt);
      moe::GenerateOptions o;
      o.maxNewTokens = static_cast<int64_t>(ref.tokens.front().size());
      INFO("smallest top-2 logit gap on transformers' greedy paths: " << ref.margin);
      // Lock-step batch of all prompts (left-padded, KV cache where the architecture has one) ...
      moe::GenerateStats stats;
      CHECK(tokensOf(moe::generate(*model, ref.prompts, o, {}, {}, &stats)) == ref.tokens);
      CHECK(stats.cached == model->arch().supportsKvCache());
      // ... and one prompt at a time, recomputed without a cache.
      o.useCache = false;
      CHECK(tokensOf(moe::generate(*model, ref.prompts, o)) == ref.tokens);
    }
  }
}

TEST_CASE("KV-cache decoding equals recomputation without cache", "[generate]") {
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  for (const std::string arch : {"mixtral", "gpt_oss", "deepseek_v3", "glm4_moe", "ernie4_5_moe", "llama4_text", "llama4",
                                 "deepseek_v32", "qwen3_next", "qwen3_5_moe"}) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      REQUIRE(model->arch().supportsKvCache());
      const int64_t V = model->config().vocabSize;
      // Two rows of different lengths: the shorter is left-padded by 3.
      const at::Tensor full = at::randint(1, V, {2, 14}, at::kLong);
      const at::Tensor reference = model->forward(full);  // [2, 14, V]
      moe::DecodeState state;
      at::Tensor valid = at::ones({2, 14}, at::kBool);
      valid[1].narrow(0, 0, 3).fill_(false);
      at::Tensor positions = (valid.to(at::kLong).cumsum(1) - 1).clamp_min(0);
      moe::ForwardOptions fo;
      fo.decode = &state;
      // Prefill the first 10 positions, then one token at a time.
      state.positions = positions.narrow(1, 0, 10);
      state.keyValid = valid.narrow(1, 0, 10);
      at::Tensor step = model->forward(full.narrow(1, 0, 10), nullptr, fo);
      CHECK(state.past == 10);
      // Row 0 has no padding: the same logits as the full forward.
      CHECK(at::allclose(step[0], reference[0].narrow(0, 0, 10), 1e-4, 1e-4));
      // Row 1's real tokens (from index 3) are the sequence full[1][3:] alone.
      const at::Tensor alone = model->forward(full[1].narrow(0, 3, 11).unsqueeze(0));
      CHECK(at::allclose(step[1].narrow(0, 3, 7), alone[0].narrow(0, 0, 7), 1e-4, 1e-4));
      for (int64_t t = 10; t < 14; ++t) {
        state.positions = positions.narrow(1, t, 1);
        state.keyValid = valid.narrow(1, 0, t + 1);
        at::Tensor one = model->forward(full.narrow(1, t, 1), nullptr, fo);
        INFO("position " << t);
        CHECK(at::allclose(one[0][0], reference[0][t], 1e-4, 1e-4));
        CHECK(at::allclose(one[1][0], alone[0][t - 3], 1e-4, 1e-4));
      }
      CHECK(state.past == 14);
    }
  }
}

TEST_CASE("every architecture and format decodes a padded batch with a KV cache as recomputation does", "[generate]") {
  // Three prompts of different lengths (left padding of 2 and 5) in one cached batch, against one
  // prompt at a time recomputed without a cache: the same greedy tokens, for every fixture.
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  for (const std::string& arch : moe::test::fixtureArchitectures()) {
    DYNAMIC_SECTION(arch) {
      auto model = moe::Model::open(fixture(arch), rt);
      REQUIRE(model->arch().supportsKvCache());
      const int64_t V = model->config().vocabSize;
      std::vector<std::vector<int64_t>> prompts;
      for (int64_t length : {9, 7, 4}) {
        std::vector<int64_t> p;
        for (int64_t t = 0; t < length; ++t) p.push_back(1 + (t * 37 + length * 11) % (V - 1));
        prompts.push_back(p);
      }
      moe::GenerateOptions o;
      o.maxNewTokens = 6;
      moe::GenerateStats cached, recomputed;
      const auto batch = tokensOf(moe::generate(*model, prompts, o, {}, {}, &cached));
      o.useCache = false;
      CHECK(tokensOf(moe::generate(*model, prompts, o, {}, {}, &recomputed)) == batch);
      CHECK(cached.cached);
      CHECK_FALSE(recomputed.cached);
    }
  }
}

TEST_CASE("a resident model generates what the streamed one does", "[generate]") {
  moe::initThreads();
  const Reference ref = readReference(std::string(MOESCOPE_TEST_DATA) + "/generation/demo-moe.h5");
  auto model = moe::Model::open(demoModel(), moe::test::runtime("fp32"));
  model->setResident(true);
  moe::GenerateOptions o;
  o.maxNewTokens = static_cast<int64_t>(ref.tokens.front().size());
  o.batchSize = 3;  // a batch of 3 and one of 1
  CHECK(tokensOf(moe::generate(*model, ref.prompts, o)) == ref.tokens);
}

TEST_CASE("SCMoE with beta 0 is greedy decoding; with beta > 0 it follows its formula", "[generate]") {
  moe::initThreads();
  auto model = moe::Model::open(demoModel(), moe::test::runtime("fp32"));
  const Reference ref = readReference(std::string(MOESCOPE_TEST_DATA) + "/generation/demo-moe.h5");
  moe::GenerateOptions o;
  o.maxNewTokens = 12;
  const auto greedy = tokensOf(moe::generate(*model, ref.prompts, o));
  o.scmoe.enabled = true;
  o.scmoe.beta = 0;
  CHECK(tokensOf(moe::generate(*model, ref.prompts, o)) == greedy);
  o.scmoe.weakRank = 2;
  CHECK(tokensOf(moe::generate(*model, ref.prompts, o)) == greedy);

  // The score formula on hand-made distributions: strong p = (0.5, 0.3, 0.15, 0.05), weak p =
  // (0.6, 0.1, 0.2, 0.1), beta 1, alpha 0.2 (tokens with p >= 0.1 stay: 0, 1, 2).
  const at::Tensor ps = at::tensor({0.5, 0.3, 0.15, 0.05}, at::kFloat), pw = at::tensor({0.6, 0.1, 0.2, 0.1}, at::kFloat);
  moe::ScmoeOptions s;
  s.beta = 1;
  s.alpha = 0.2;
  const at::Tensor scores = moe::scmoeScores(ps.log() + 3.0, pw.log() - 1.0, s);  // logits up to a constant
  CHECK(scores[0].item<double>() == Approx(2 * std::log(0.5) - std::log(0.6)).epsilon(1e-5));
  CHECK(scores[1].item<double>() == Approx(2 * std::log(0.3) - std::log(0.1)).epsilon(1e-5));
  CHECK(scores[2].item<double>() == Approx(2 * std::log(0.15) - std::log(0.2)).epsilon(1e-5));
  CHECK(std::isinf(scores[3].item<double>()));
  CHECK(moe::chooseToken(scores, 0, 1, 0) == 1);  // the contrast prefers token 1 over the strong favourite 0
}

TEST_CASE("rank-r routing uses only the r-th ranked expert", "[generate]") {
  moe::MoeBlock b;
  b.routerWeight = at::eye(4, at::kFloat);
  b.routing.topK = 2;
  b.routing.normalize = true;
  b.routing.onlyRank = 2;
  const at::Tensor x = at::tensor({0.1, 0.9, 0.5, 0.3}, at::kFloat).view({1, 4});
  const moe::Routing r = b.route(b.routerLogits(x));
  REQUIRE(r.indices.size(1) == 1);
  CHECK(r.indices[0][0].item<int64_t>() == 2);  // logits 0.9 (expert 1) then 0.5 (expert 2)
  CHECK(r.weights[0][0].item<double>() == 1.0);
}

TEST_CASE("sampling: temperature and top-p follow the distribution; a seed repeats a run", "[generate]") {
  // p = softmax(log(0.6, 0.3, 0.1)) at temperature 1; top-p 0.8 keeps tokens 0 and 1 (mass 0.9).
  const at::Tensor logits = at::tensor({0.6, 0.3, 0.1}, at::kFloat).log();
  CHECK(moe::chooseToken(logits, 1.0, 0.8, 0.0) == 0);
  CHECK(moe::chooseToken(logits, 1.0, 0.8, 0.6 / 0.9 - 1e-4) == 0);
  CHECK(moe::chooseToken(logits, 1.0, 0.8, 0.6 / 0.9 + 1e-4) == 1);
  CHECK(moe::chooseToken(logits, 1.0, 0.8, 0.999) == 1);  // token 2 is outside the nucleus
  CHECK(moe::chooseToken(logits, 1.0, 1.0, 0.95) == 2);
  // Greedy ignores the draw.
  CHECK(moe::chooseToken(logits, 0.0, 0.8, 0.999) == 0);

  moe::initThreads();
  auto model = moe::Model::open(demoModel(), moe::test::runtime("fp32"));
  moe::GenerateOptions o;
  o.maxNewTokens = 8;
  o.temperature = 1.0;
  o.seed = 7;
  const std::vector<std::vector<int64_t>> prompts{{5, 6, 7}, {8, 9, 10, 11, 12}};
  const auto a = tokensOf(moe::generate(*model, prompts, o));
  CHECK(tokensOf(moe::generate(*model, prompts, o)) == a);
  o.useCache = false;  // per-prompt generators: batching does not change a sampled continuation
  CHECK(tokensOf(moe::generate(*model, prompts, o)) == a);
  o.seed = 8;
  CHECK(tokensOf(moe::generate(*model, prompts, o)) != a);
}

TEST_CASE("generation stops at a stop id and reports progress; cancel stops it", "[generate]") {
  moe::initThreads();
  auto model = moe::Model::open(demoModel(), moe::test::runtime("fp32"));
  const Reference ref = readReference(std::string(MOESCOPE_TEST_DATA) + "/generation/demo-moe.h5");
  moe::GenerateOptions o;
  o.maxNewTokens = 10;
  o.stopIds = {ref.tokens[0][3]};  // prompt 1's 4th greedy token
  const auto out = moe::generate(*model, {ref.prompts[0], ref.prompts[1]}, o);
  // Prompt 1 ends on its 4th token at the latest (earlier when the id also appears before).
  CHECK(out[0].stopped);
  CHECK(out[0].tokens.back() == ref.tokens[0][3]);
  CHECK(out[0].tokens.size() <= 4);
  for (size_t i = 0; i < out[1].tokens.size(); ++i) CHECK(out[1].tokens[i] == ref.tokens[1][i]);

  std::atomic<bool> cancel{false};
  moe::GenerateCallbacks cb;
  cb.cancel = &cancel;
  int64_t tokens = 0;
  cb.onToken = [&](size_t, int64_t) {
    if (++tokens == 3) cancel = true;
  };
  o.stopIds.clear();
  try {
    moe::generate(*model, {ref.prompts[0]}, o, {}, cb);
    FAIL("not cancelled");
  } catch (const moe::Error& e) {
    CHECK(e.kind() == moe::ErrorKind::Cancelled);
  }
  CHECK(tokens == 3);
}

TEST_CASE("generation requests are checked before any work", "[generate]") {
  auto model = moe::Model::open(demoModel(), moe::test::runtime("fp32"));
  moe::GenerateOptions o;
  auto message = [&](const std::vector<std::vector<int64_t>>& prompts, const moe::GenerateOptions& opts) {
    try {
      moe::validateGenerateRequest(*model, prompts, opts);
    } catch (const moe::Error& e) {
      CHECK(e.kind() == moe::ErrorKind::InvalidArgument);
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(message({}, o), moe::test::Contains("no prompts"));
  CHECK_THAT(message({{1, 2}, {}}, o), moe::test::Contains("prompt 2 is empty"));
  CHECK_THAT(message({{1, 99999}}, o), moe::test::Contains("outside the vocabulary"));
  std::vector<int64_t> longPrompt(1020, 5);  // the demo's context is 1024 positions
  CHECK_THAT(message({longPrompt}, o), moe::test::Contains("max_position_embeddings"));
  moe::GenerateOptions zero = o;
  zero.maxNewTokens = 0;
  CHECK_THAT(message({{1}}, zero), moe::test::Contains("at least 1"));
  moe::GenerateOptions p = o;
  p.topP = 0;
  CHECK_THAT(message({{1}}, p), moe::test::Contains("top-p"));
  moe::GenerateOptions s = o;
  s.scmoe.enabled = true;
  s.scmoe.weakTopK = 3;  // the demo routes to 2 experts
  CHECK_THAT(message({{1}}, s), moe::test::Contains("num_experts_per_tok"));
  CHECK(message({{1, 2, 3}}, o).empty());

  // A prompts file with nothing in it.
  const fs::path empty = fs::temp_directory_path() / "moescope-empty-prompts.txt";
  std::ofstream(empty) << "\n\n";
  CHECK_THROWS_AS(moe::readPrompts(empty.string()), moe::Error);
  fs::remove(empty);
}

TEST_CASE("agreement metrics: identical prefix and token ROUGE-L", "[generate]") {
  CHECK(moe::identicalPrefixLength({1, 2, 3, 4}, {1, 2, 9, 4}) == 2);
  CHECK(moe::identicalPrefixLength({1, 2}, {1, 2, 3}) == 2);
  // LCS of (1 2 3 4 5) and (1 3 5 7) is (1 3 5): P = 3/4, R = 3/5, F = 2PR / (P + R) = 2/3.
  CHECK(moe::longestCommonSubsequence({1, 2, 3, 4, 5}, {1, 3, 5, 7}) == 3);
  CHECK(moe::rougeL({1, 2, 3, 4, 5}, {1, 3, 5, 7}) == Approx(2.0 / 3.0));
  CHECK(moe::rougeL({1, 2}, {1, 2}) == 1.0);
  CHECK(moe::rougeL({1, 2}, {3, 4}) == 0.0);
  const auto a = moe::freeRunningAgreement({{1, 2, 3}, {4, 5}}, {{1, 2, 9}, {6, 5}});
  CHECK(a.meanIdenticalPrefix == Approx(1.0));                   // (2 + 0) / 2
  CHECK(a.meanRougeL == Approx((2.0 / 3.0 + 0.5) / 2.0));         // LCS 2 of 3, LCS 1 of 2
}

TEST_CASE("teacher-forced agreement of a model with itself is 1, and less for a changed model", "[generate]") {
  moe::initThreads();
  auto model = moe::Model::open(demoModel(), moe::test::runtime("fp32"));
  const at::Tensor ids = at::randint(1, model->config().vocabSize, {2, 24}, at::kLong);
  const at::Tensor ref = moe::finalHidden(*model, ids);
  const moe::EvalResult self = moe::scoreHidden(*model, ref, ids, ref);
  CHECK(self.top1Agreement == 1.0);
  CHECK(self.meanKl == Approx(0.0).margin(1e-6));
  // Top-1 routing changes the model: some predictions change.
  moe::ForwardOptions fo;
  fo.moeOverride = [](int, moe::MoeBlock& b) { b.routing.topK = 1; };
  const moe::EvalResult changed = moe::evaluate(*model, ids, fo, ref);
  CHECK(changed.top1Agreement < 1.0);
  CHECK(changed.top1Agreement >= 0.0);
  // It is the fraction computed here from the logits.
  const at::Tensor head = model->loadTensor(model->arch().lmHeadName());
  const at::Tensor mine = moe::finalHidden(*model, ids, fo);
  const at::Tensor a = at::linear(ref.narrow(1, 0, 23), head).argmax(-1);
  const at::Tensor b = at::linear(mine.narrow(1, 0, 23), head).argmax(-1);
  CHECK(changed.top1Agreement == Approx(a.eq(b).to(at::kDouble).mean().item<double>()));
}

TEST_CASE("generation preview: the first variant is the reference of the others", "[generate]") {
  moe::initThreads();
  auto model = moe::Model::open(demoModel(), moe::test::runtime("fp32"));
  const Reference ref = readReference(std::string(MOESCOPE_TEST_DATA) + "/generation/demo-moe.h5");
  moe::GenerateOptions o;
  o.maxNewTokens = 16;
  std::vector<moe::PreviewVariant> variants{{"original", {}},
                                            {"same", [](int, moe::MoeBlock&) {}},
                                            {"top-1", [](int, moe::MoeBlock& b) { b.routing.topK = 1; }}};
  const auto results = moe::generationPreview(*model, ref.prompts, o, variants);
  REQUIRE(results.size() == 3);
  CHECK(results[1].agreement.meanRougeL == 1.0);
  CHECK(results[1].agreement.meanIdenticalPrefix == 16.0);
  for (int64_t d : results[1].firstDivergence) CHECK(d == -1);
  for (size_t p = 0; p < ref.prompts.size(); ++p) {
    const int64_t same = moe::identicalPrefixLength(results[0].continuations[p].tokens, results[2].continuations[p].tokens);
    CHECK(results[2].firstDivergence[p] == (same < 16 ? same : -1));
  }
}

TEST_CASE("held-out next-token accuracy, plain and with SCMoE", "[generate]") {
  moe::initThreads();
  auto model = moe::Model::open(demoModel(), moe::test::runtime("fp32"));
  moe::TokenSourceOptions src;  // real text: a trained model predicts a good share of it
  src.sequences = 2;
  src.length = 20;
  const at::Tensor ids = moe::loadTokenIds(std::string(MOESCOPE_DEMO_DIR) + "/eval.jsonl", demoModel(), src);
  moe::ScmoeOptions s;
  s.beta = 0;
  s.alpha = 0;
  const moe::NextTokenAccuracy a = moe::nextTokenAccuracy(*model, ids, {}, s);
  CHECK(a.predicted == 38);
  CHECK(a.plain > 0.05);
  CHECK(a.scmoe == a.plain);  // beta 0, no plausibility cut: the strong model's own argmax
  // The plain accuracy computed here from the final hidden states.
  const at::Tensor head = model->loadTensor(model->arch().lmHeadName());
  const at::Tensor pred = at::linear(moe::finalHidden(*model, ids).narrow(1, 0, 19), head).argmax(-1);
  CHECK(a.plain == Approx(pred.eq(ids.narrow(1, 1, 19)).to(at::kDouble).mean().item<double>()));
}
