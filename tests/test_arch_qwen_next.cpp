// Qwen3-Next (and its family, core/arch/qwen3_next_family.h) beyond what every fixture is tested for
// in test_forward / test_analysis / test_merge: the Gated DeltaNet pieces against a direct
// implementation of their published definitions on sequences longer than one chunk (the fixtures'
// 24- and 32-token inputs fit in one 64-step chunk), the config conventions transformers accepts
// (layer_types from full_attention_interval, legacy layer type names, partial_rotary_factor at the top
// level), bf16 compute, and the `mtp.` multi-token-prediction block of the fixture
// (tests/data/hf-tiny/qwen3_next, scripts/fixtures/archs/qwen3_next.py); for Qwen3.5-MoE, the
// per-expert layout transformers' save_pretrained writes besides the released fused one.
#include "tests/catch_torch.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/arch/gated_deltanet.h"
#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/io/h5file.h"
#include "core/model/safetensors.h"
#include "tests/checkpoint_copy.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kFixture = fs::path(MOESCOPE_TEST_DATA) / "hf-tiny" / "qwen3_next";
const fs::path kQwen35 = fs::path(MOESCOPE_TEST_DATA) / "hf-tiny" / "qwen3_5_moe";

// The fixture copied into `dir` through the edits given (tests/checkpoint_copy.h).
void copyFixture(const fs::path& dir, const std::function<void(json&)>& editConfig = {},
                 const moe::test::TensorEdit& editTensors = {}, const fs::path& fixture = kFixture) {
  moe::test::copyCheckpoint(fixture, dir, editConfig, editTensors);
}

struct Scratch : moe::test::ScratchDir {
  Scratch() : moe::test::ScratchDir("qwen-next") {}
};

using moe::test::bf16Blob;
using moe::test::readJsonFile;
double relativeError(const at::Tensor& got, const at::Tensor& ref) { return moe::test::maxRelativeError(got, ref); }

at::Tensor reference(const char* dataset, const fs::path& fixture = kFixture) {
  moe::h5::File ref((fixture / "reference.h5").string(), moe::h5::File::Mode::Read);
  return std::string(dataset) == "input_ids" ? moe::readIntTensor(ref, dataset) : moe::readFloatTensor(ref, dataset);
}

double logitsError(const fs::path& dir, const char* dtype = "fp32", const fs::path& fixture = kFixture) {
  auto model = moe::Model::open(dir.string(), moe::test::runtime(dtype));
  return relativeError(model->forward(reference("input_ids", fixture)), reference("logits", fixture));
}

std::string openError(const fs::path& dir) {
  try {
    moe::Model::open(dir.string(), moe::test::runtime("fp32"));
  } catch (const moe::Error& e) {
    return e.what();
  }
  FAIL("the model opened");
  return "";
}

// The gated delta rule step by step, in double precision, as the Gated DeltaNet paper writes it
// (with the query and key L2-normalised and the query scaled by dk^-0.5 first, as Qwen3-Next does):
//   S = exp(g_t) S;  S += k_t (beta_t (v_t - S^T k_t))^T;  o_t = S^T q_t.
at::Tensor naiveDeltaRule(at::Tensor q, at::Tensor k, const at::Tensor& v, const at::Tensor& g, const at::Tensor& beta) {
  q = q.to(at::kDouble);
  k = k.to(at::kDouble);
  q = q / (q.pow(2).sum(-1, true) + 1e-6).sqrt() / std::sqrt(static_cast<double>(q.size(-1)));
  k = k / (k.pow(2).sum(-1, true) + 1e-6).sqrt();
  const int64_t B = q.size(0), T = q.size(1), H = q.size(2), dv = v.size(3);
  at::Tensor out = at::zeros({B, T, H, dv}, at::kDouble);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      at::Tensor S = at::zeros({q.size(3), dv}, at::kDouble);
      for (int64_t t = 0; t < T; ++t) {
        const at::Tensor kt = k[b][t][h], qt = q[b][t][h], vt = v[b][t][h].to(at::kDouble);
        S = S * std::exp(g[b][t][h].item<double>());
        const at::Tensor delta = (vt - at::matmul(S.t(), kt)) * beta[b][t][h].item<double>();
        S = S + at::outer(kt, delta);
        out[b][t][h] = at::matmul(S.t(), qt);
      }
    }
  return out;
}

}  // namespace

TEST_CASE("the chunked gated delta rule equals the step-by-step recurrence over several chunks", "[qwen3_next][deltanet]") {
  at::manual_seed(7);
  const int64_t B = 2, T = 150, H = 3, dk = 5, dv = 7;  // 150 steps: two whole 64-step chunks and a padded one
  const at::Tensor q = at::randn({B, T, H, dk}), k = at::randn({B, T, H, dk}), v = at::randn({B, T, H, dv});
  const at::Tensor g = -at::rand({B, T, H}) * 0.5;  // log decays in (-0.5, 0]
  const at::Tensor beta = at::rand({B, T, H});
  const at::Tensor want = naiveDeltaRule(q, k, v, g, beta);
  const at::Tensor got = moe::gatedDeltaRule(q, k, v, g, beta);
  CHECK(got.scalar_type() == at::kFloat);
  CHECK(relativeError(got, want) <= 1e-5);
  // A chunk size that does not divide T changes only rounding.
  CHECK(relativeError(moe::gatedDeltaRule(q, k, v, g, beta, 16), want) <= 1e-5);
  // Incremental decoding: 140 steps in chunks (the carried state starts at zero), then the rest one
  // step at a time (chunk 1) from the carried state.
  at::Tensor state;
  std::vector<at::Tensor> parts{moe::gatedDeltaRule(q.narrow(1, 0, 140), k.narrow(1, 0, 140), v.narrow(1, 0, 140),
                                                    g.narrow(1, 0, 140), beta.narrow(1, 0, 140), 64, &state)};
  CHECK(state.sizes() == at::IntArrayRef{B, H, dk, dv});
  for (int64_t t = 140; t < T; ++t)
    parts.push_back(moe::gatedDeltaRule(q.narrow(1, t, 1), k.narrow(1, t, 1), v.narrow(1, t, 1), g.narrow(1, t, 1),
                                        beta.narrow(1, t, 1), 1, &state));
  CHECK(relativeError(at::cat(parts, 1), want) <= 1e-5);
}

TEST_CASE("the causal depthwise convolution sees only the current and the K-1 previous steps", "[qwen3_next][deltanet]") {
  at::manual_seed(3);
  const int64_t B = 2, T = 9, C = 5, K = 4;
  const at::Tensor x = at::randn({B, T, C}), w = at::randn({C, 1, K});
  at::Tensor want = at::zeros({B, T, C});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < K; ++j) {
      const int64_t src = t - (K - 1) + j;  // tap j multiplies step t - (K - 1 - j)
      if (src >= 0) want.select(1, t) += x.select(1, src) * w.select(2, j).view({C});
    }
  want = at::silu(want);
  CHECK(relativeError(moe::causalDepthwiseConvSilu(x, w), want) <= 1e-6);
  // Incremental decoding: 2 steps from the start (fewer than K - 1), then 3, then one at a time,
  // each call given the K - 1 inputs before it.
  at::Tensor past;
  std::vector<at::Tensor> parts;
  for (auto [from, n] : std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {2, 3}, {5, 1}, {6, 1}, {7, 1}, {8, 1}}) {
    parts.push_back(moe::causalDepthwiseConvSilu(x.narrow(1, from, n), w, &past));
    CHECK(past.sizes() == at::IntArrayRef{B, K - 1, C});
  }
  CHECK(relativeError(at::cat(parts, 1), want) <= 1e-6);
}

TEST_CASE("qwen3_next reads the layer kinds and the rotary fraction in every convention transformers accepts", "[qwen3_next]") {
  Scratch s;
  SECTION("layer kinds from full_attention_interval when layer_types is absent") {
    copyFixture(s.dir, [](json& c) {
      c.erase("layer_types");  // the fixture alternates linear / full attention
      c["full_attention_interval"] = 2;
    });
    CHECK(logitsError(s.dir) <= 1e-5);
  }
  SECTION("legacy layer type names") {
    copyFixture(s.dir, [](json& c) { c["layer_types"] = {"mamba", "attention", "linear_attention", "full_attention"}; });
    CHECK(logitsError(s.dir) <= 1e-5);
  }
  SECTION("partial_rotary_factor only at the top level (transformers 4)") {
    copyFixture(s.dir, [](json& c) {
      c["rope_theta"] = c["rope_parameters"]["rope_theta"];
      c.erase("rope_parameters");
    });
    CHECK(logitsError(s.dir) <= 1e-5);
  }
  SECTION("layer kinds that disagree with the stored tensors are refused") {
    copyFixture(s.dir, [](json& c) { c["layer_types"] = {"full_attention", "linear_attention", "linear_attention", "full_attention"}; });
    CHECK_THAT(openError(s.dir), moe::test::Contains("model.layers.0.self_attn.q_proj.weight"));
  }
  SECTION("layer_types of the wrong length") {
    copyFixture(s.dir, [](json& c) { c["layer_types"] = {"linear_attention"}; });
    CHECK_THAT(openError(s.dir), moe::test::Contains("layer_types lists 1 layers, num_hidden_layers is 4"));
  }
  SECTION("value heads that do not split over key heads") {
    copyFixture(s.dir, [](json& c) { c["linear_num_value_heads"] = 3; });
    CHECK_THAT(openError(s.dir), moe::test::Contains("linear_num_value_heads (3) is not a multiple of linear_num_key_heads (2)"));
  }
}

TEST_CASE("qwen3_next in bf16 stays close to the fp32 reference", "[qwen3_next][bf16]") {
  // bf16 keeps 8 bits of mantissa; four layers of rounding stay within a few percent overall.
  // transformers' own bf16 forward of this fixture (torch 2.13, eager) is 0.019 from the fp32
  // logits in relative L2 and 0.034 at the worst logit. The worst logit is not a stable measure:
  // some tokens' top-2 experts are within bf16 rounding of each other (a margin of 0.012 in block
  // 1), and which of them flips depends on how each product rounds; a flipped token's logits move
  // by up to 0.12 of the largest. So: the whole error in L2, and the worst logit of nearly every
  // token.
  auto model = moe::Model::open(kFixture.string(), moe::test::runtime("bf16"));
  const at::Tensor got = model->forward(reference("input_ids", kFixture)).to(at::kCPU, at::kDouble);
  const at::Tensor ref = reference("logits", kFixture).to(at::kDouble);
  REQUIRE(got.sizes() == ref.sizes());
  CHECK((got - ref).norm().item<double>() / ref.norm().item<double>() <= 5e-2);
  const at::Tensor perToken = std::get<0>((got - ref).abs().max(-1)).flatten() / ref.abs().max().item<double>();
  const int64_t close = perToken.le(5e-2).sum().item<int64_t>();
  INFO("tokens within 5e-2: " << close << " of " << perToken.numel());
  CHECK(close * 10 >= perToken.numel() * 9);
}

TEST_CASE("qwen3_next's mtp. block is checked against config.json", "[qwen3_next][mtp]") {
  Scratch s;
  SECTION("the fixture's block loads") {
    auto model = moe::Model::open(kFixture.string(), moe::test::runtime("fp32"));
    int mtp = 0;
    for (const auto& n : model->store().names()) mtp += n.rfind("mtp.", 0) == 0;
    CHECK(mtp > 0);
  }
  SECTION("fc of the wrong width") {
    copyFixture(s.dir, {}, [](auto& t) { t["mtp.fc.weight"] = bf16Blob("mtp.fc.weight", {32, 32}); });
    CHECK_THAT(openError(s.dir), moe::test::Contains("'mtp.fc.weight' has shape [32, 32], expected [32, 64]"));
  }
  SECTION("an MTP expert beyond num_experts") {
    copyFixture(s.dir, {}, [](auto& t) {
      t["mtp.layers.0.mlp.experts.8.up_proj.weight"] = bf16Blob("mtp.layers.0.mlp.experts.8.up_proj.weight", {16, 32});
    });
    CHECK_THAT(openError(s.dir), moe::test::Contains("'mtp.layers.0.mlp.experts.8.up_proj.weight'"));
  }
  SECTION("a config that declares no MTP layers") {
    copyFixture(s.dir, [](json& c) { c["mtp_num_hidden_layers"] = 0; });
    CHECK_THAT(openError(s.dir), moe::test::Contains("'mtp."));
  }
  SECTION("a checkpoint stripped of its MTP block loads and computes the same") {
    copyFixture(s.dir, {}, [](auto& t) {
      for (auto it = t.begin(); it != t.end();) it = it->first.rfind("mtp.", 0) == 0 ? t.erase(it) : std::next(it);
    });
    CHECK(logitsError(s.dir) <= 1e-5);
  }
}

namespace {

// Qwen3.5-MoE's fused experts (gate_up_proj [E, 2I, H]: gate rows, then up rows; down_proj [E, H, I])
// rewritten one tensor per expert, as transformers 5's save_pretrained stores them, byte for byte.
void unfuseExperts(std::map<std::string, moe::TensorBlob>& t) {
  std::vector<std::string> fused;
  for (const auto& [name, b] : t)
    if (name.size() > 21 && name.compare(name.size() - 21, 21, ".experts.gate_up_proj") == 0) fused.push_back(name);
  REQUIRE(!fused.empty());
  for (const auto& gateUpName : fused) {
    const std::string experts = gateUpName.substr(0, gateUpName.size() - std::string("gate_up_proj").size());
    const moe::TensorBlob gateUp = t.at(gateUpName), down = t.at(experts + "down_proj");
    const int64_t E = gateUp.shape[0], I = gateUp.shape[1] / 2, H = gateUp.shape[2];
    const size_t half = static_cast<size_t>(I * H * 2), whole = static_cast<size_t>(H * I * 2);  // bf16 bytes
    for (int64_t e = 0; e < E; ++e) {
      const std::string p = experts + std::to_string(e) + ".";
      const uint8_t* g = gateUp.bytes.data() + static_cast<size_t>(e) * 2 * half;
      t[p + "gate_proj.weight"] = {p + "gate_proj.weight", moe::DType::BF16, {I, H}, std::vector<uint8_t>(g, g + half)};
      t[p + "up_proj.weight"] = {p + "up_proj.weight", moe::DType::BF16, {I, H}, std::vector<uint8_t>(g + half, g + 2 * half)};
      const uint8_t* d = down.bytes.data() + static_cast<size_t>(e) * whole;
      t[p + "down_proj.weight"] = {p + "down_proj.weight", moe::DType::BF16, {H, I}, std::vector<uint8_t>(d, d + whole)};
    }
    t.erase(gateUpName);
    t.erase(experts + "down_proj");
  }
}

}  // namespace

TEST_CASE("qwen3_5_moe reads its experts fused as released or per expert as save_pretrained writes them", "[qwen3_5_moe]") {
  {
    auto model = moe::Model::open(kQwen35.string(), moe::test::runtime("fp32"));
    CHECK(model->arch().expertLayout() == moe::ExpertLayout::Fused);
  }
  Scratch s;
  copyFixture(s.dir, {}, unfuseExperts, kQwen35);
  auto model = moe::Model::open(s.dir.string(), moe::test::runtime("fp32"));
  CHECK(model->arch().expertLayout() == moe::ExpertLayout::PerExpert);
  CHECK(model->moeLayers().size() == 4);
  CHECK(relativeError(model->forward(reference("input_ids", kQwen35)), reference("logits", kQwen35)) <= 1e-5);
}

TEST_CASE("qwen3_5_moe needs its text model's fields in text_config", "[qwen3_5_moe]") {
  Scratch s;
  copyFixture(s.dir, [](json& c) {
    json text = c["text_config"];
    c.erase("text_config");
    for (auto& [k, v] : text.items())
      if (k != "model_type") c[k] = v;
  }, {}, kQwen35);
  CHECK_THAT(openError(s.dir), moe::test::Contains("keeps the text model's fields in text_config"));
}
