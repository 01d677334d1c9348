// Quantized checkpoints (core/model/quant.h, quant_codec.h): the codecs against torch's float8 casts,
// transformers' dequantization and the reference implementation scripts/fixtures/quant_formats.py
// (numbers in tests/data/quant/codec_reference.h5, made by scripts/fixtures/make_quant_reference.py),
// exact to the bit; quantization_config parsing; and one message per kind of bad quantized storage.
#include "tests/catch_torch.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/arch/architecture.h"
#include "core/engine/model.h"
#include "core/engine/synth.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/io/h5file.h"
#include "core/merge/export.h"
#include "core/merge/memory.h"
#include "core/merge/merge.h"
#include "core/model/config.h"
#include "core/model/quant.h"
#include "core/model/quant_codec.h"
#include "core/model/safetensors.h"

namespace fs = std::filesystem;
using moe::test::Contains;
using nlohmann::json;

namespace {

std::string codecReference() { return std::string(MOESCOPE_TEST_DATA) + "/quant/codec_reference.h5"; }

at::Tensor readBytes(const moe::h5::File& f, const std::string& name) { return moe::readIntTensor(f, name).to(at::kByte); }

// Bitwise equality of float tensors (so -0 differs from 0), where NaN equals any NaN.
bool sameBits(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  const at::Tensor x = a.to(at::kCPU, at::kFloat).contiguous(), y = b.to(at::kCPU, at::kFloat).contiguous();
  const at::Tensor nan = x.isnan();
  if (!at::equal(nan, y.isnan())) return false;
  const at::Tensor xs = at::where(nan, at::zeros_like(x), x).contiguous(), ys = at::where(nan, at::zeros_like(y), y).contiguous();
  return std::memcmp(xs.data_ptr(), ys.data_ptr(), static_cast<size_t>(x.numel()) * 4) == 0;
}

struct Scratch {
  fs::path dir;
  Scratch() {
    static int counter = 0;
    dir = fs::temp_directory_path() / ("moescope-test-quant-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

moe::TensorBlob blobOf(const std::string& name, const at::Tensor& t, moe::DType dtype) {
  moe::TensorBlob b;
  b.name = name;
  b.dtype = dtype;
  const at::Tensor c = t.contiguous();
  b.shape = c.sizes().vec();
  b.bytes.resize(static_cast<size_t>(c.numel()) * c.element_size());
  if (!b.bytes.empty()) std::memcpy(b.bytes.data(), c.data_ptr(), b.bytes.size());
  return b;
}

// A store of `blobs` (written to a scratch model.safetensors), quantization applied from `qc`.
struct QuantStore {
  Scratch scratch;
  std::unique_ptr<moe::TensorStore> store;
  QuantStore(const std::vector<moe::TensorBlob>& blobs, const json& qc) {
    std::vector<const moe::TensorBlob*> ptrs;
    for (const auto& b : blobs) ptrs.push_back(&b);
    const std::string file = (scratch.dir / "model.safetensors").string();
    moe::writeSafetensors(file, ptrs);
    store = moe::TensorStore::openFiles({file});
    json cfg = {{"model_type", "x"}, {"hidden_size", 8}, {"num_hidden_layers", 1}, {"num_attention_heads", 1},
                {"vocab_size", 8}};
    if (!qc.is_null()) cfg["quantization_config"] = qc;
    moe::applyQuantization(*store, moe::ModelConfig::fromJson(cfg, "config.json").quant, "config.json");
  }
};

std::string errorOf(const std::function<void()>& f, moe::ErrorKind kind) {
  try {
    f();
  } catch (const moe::Error& e) {
    INFO("message: " << e.what());
    CHECK(moe::errorKindName(e.kind()) == std::string(moe::errorKindName(kind)));
    return e.what();
  }
  FAIL("expected moe::Error (" << moe::errorKindName(kind) << "), nothing was thrown");
  return "";
}

const json kFp8Block16 = {{"quant_method", "fp8"}, {"weight_block_size", {16, 16}}};
const json kMxfp4 = {{"quant_method", "mxfp4"}};

}  // namespace

TEST_CASE("code tables equal torch's float8 dtypes and transformers' E2M1 values", "[quant][codec]") {
  moe::h5::File ref(codecReference(), moe::h5::File::Mode::Read);
  CHECK(sameBits(moe::fp8Table(moe::DType::F8_E4M3), moe::readFloatTensor(ref, "fp8_e4m3_values")));
  CHECK(sameBits(moe::fp8Table(moe::DType::F8_E5M2), moe::readFloatTensor(ref, "fp8_e5m2_values")));
  CHECK(sameBits(moe::e2m1Table(), moe::readFloatTensor(ref, "e2m1_values")));
  const at::Tensor e8m0 = moe::e8m0Table();
  CHECK(e8m0[127].item<float>() == 1.0f);
  CHECK(e8m0[0].item<float>() == std::ldexp(1.0f, -127));
  CHECK(e8m0[254].item<float>() == std::ldexp(1.0f, 127));
}

TEST_CASE("FP8 encoding rounds like torch's float8 casts (nearest, ties to even, saturated)", "[quant][codec]") {
  moe::h5::File ref(codecReference(), moe::h5::File::Mode::Read);
  const at::Tensor x = moe::readFloatTensor(ref, "encode/x");
  CHECK(at::equal(moe::encodeFp8(x, moe::DType::F8_E4M3), readBytes(ref, "encode/e4m3")));
  CHECK(at::equal(moe::encodeFp8(x, moe::DType::F8_E5M2), readBytes(ref, "encode/e5m2")));
  // Every E2M1 value encodes to its own code.
  CHECK(at::equal(moe::encodeE2M1(moe::e2m1Table()), at::arange(16, at::kLong).to(at::kByte)));
}

TEST_CASE("FP8 block quantization and dequantization equal the reference bit for bit", "[quant][codec][fp8]") {
  moe::h5::File ref(codecReference(), moe::h5::File::Mode::Read);
  for (const std::string c : {"whole16", "partial16", "experts3d", "per_tensor", "partial128"}) {
    DYNAMIC_SECTION(c) {
      const std::string g = "fp8/" + c;
      const auto br = static_cast<int64_t>(ref.readNumberAttribute(g, "block_rows"));
      const auto bc = static_cast<int64_t>(ref.readNumberAttribute(g, "block_cols"));
      const at::Tensor codes = readBytes(ref, g + "/codes");
      const at::Tensor scale = moe::readFloatTensor(ref, g + "/scale_inv");
      CHECK(sameBits(moe::dequantizeFp8(codes, moe::DType::F8_E4M3, scale, br, bc), moe::readFloatTensor(ref, g + "/dequant")));
      if (ref.exists(g + "/weight")) {
        const moe::Fp8Tensor q = moe::quantizeFp8(moe::readFloatTensor(ref, g + "/weight"), moe::DType::F8_E4M3, br, bc);
        CHECK(at::equal(q.codes, codes));
        CHECK(sameBits(q.scaleInv, scale));
      }
    }
  }
}

TEST_CASE("MXFP4 dequantization equals transformers' and quantization the OCP MX reference", "[quant][codec][mxfp4]") {
  moe::h5::File ref(codecReference(), moe::h5::File::Mode::Read);
  const at::Tensor deq = moe::dequantizeMxfp4(readBytes(ref, "mxfp4/random/blocks"), readBytes(ref, "mxfp4/random/scales"));
  CHECK(sameBits(deq, moe::readFloatTensor(ref, "mxfp4/random/dequant")));
  const moe::Mxfp4Tensor q = moe::quantizeMxfp4(moe::readFloatTensor(ref, "mxfp4/quantize/weight"));
  CHECK(at::equal(q.blocks, readBytes(ref, "mxfp4/quantize/blocks")));
  CHECK(at::equal(q.scales, readBytes(ref, "mxfp4/quantize/scales")));
}

TEST_CASE("quantization_config: supported methods, refused ones named, modules_to_not_convert", "[quant][config]") {
  const json base = {{"model_type", "x"}, {"hidden_size", 8}, {"num_hidden_layers", 1}, {"num_attention_heads", 1},
                     {"vocab_size", 8}};
  auto parse = [&](const json& qc) {
    json c = base;
    c["quantization_config"] = qc;
    return moe::ModelConfig::fromJson(c, "cfg.json").quant;
  };
  CHECK_FALSE(moe::ModelConfig::fromJson(base, "cfg.json").quant.quantized());
  const moe::QuantConfig fp8 = parse({{"quant_method", "fp8"}, {"weight_block_size", {128, 64}}, {"fmt", "e4m3"}});
  CHECK(fp8.method == moe::QuantMethod::Fp8);
  CHECK(fp8.blockSize == std::vector<int64_t>{128, 64});
  CHECK(parse({{"quant_method", "fp8"}, {"weight_block_size", nullptr}}).blockSize.empty());
  CHECK(parse(kMxfp4).method == moe::QuantMethod::Mxfp4);
  for (const std::string m : {"gptq", "awq", "compressed-tensors", "bitsandbytes"}) {
    INFO(m);
    const std::string msg = errorOf([&] { parse({{"quant_method", m}}); }, moe::ErrorKind::Unsupported);
    CHECK_THAT(msg, Contains("'" + m + "'"));
    CHECK_THAT(msg, Contains("fp8, mxfp4"));
  }
  CHECK_THAT(errorOf([&] { parse({{"quant_method", "fp8"}, {"weight_block_size", {128}}}); }, moe::ErrorKind::Config),
             Contains("weight_block_size"));
  CHECK_THAT(errorOf([&] { parse({{"bits", 4}}); }, moe::ErrorKind::Config), Contains("quant_method"));

  // transformers' should_convert_module: a pattern matching a prefix of the module name, "*" / ".*"
  // wildcards, or a suffix of the module name; ignored_layers is an alias.
  const moe::QuantConfig skip = parse({{"quant_method", "mxfp4"},
                                       {"modules_to_not_convert", {"model.layers.*.self_attn", "lm_head", "mlp.gate"}}});
  CHECK(skip.keepsUnquantized("model.layers.12.self_attn.q_proj.weight"));
  CHECK(skip.keepsUnquantized("lm_head.weight"));
  CHECK(skip.keepsUnquantized("model.layers.3.mlp.gate.weight"));
  CHECK_FALSE(skip.keepsUnquantized("model.layers.3.mlp.gate_proj.weight"));
  CHECK_FALSE(skip.keepsUnquantized("model.layers.3.mlp.experts.gate_up_proj"));
  CHECK(parse({{"quant_method", "fp8"}, {"ignored_layers", {"model.layers.0.mlp"}}}).keepsUnquantized("model.layers.0.mlp.down_proj.weight"));
}

TEST_CASE("quantized tensors read through the store dequantize exactly", "[quant][store]") {
  moe::h5::File ref(codecReference(), moe::h5::File::Mode::Read);
  const at::Tensor w = moe::readFloatTensor(ref, "fp8/partial16/dequant");
  const at::Tensor blocks = readBytes(ref, "mxfp4/random/blocks");
  SECTION("fp8") {
    QuantStore q({blobOf("m.weight", readBytes(ref, "fp8/partial16/codes"), moe::DType::F8_E4M3),
                  blobOf("m.weight_scale_inv", moe::readFloatTensor(ref, "fp8/partial16/scale_inv"), moe::DType::F32),
                  blobOf("norm.weight", at::ones({4}), moe::DType::F32)},
                 kFp8Block16);
    const moe::TensorInfo& info = q.store->get("m.weight");
    CHECK(info.quant == moe::QuantFormat::Fp8);
    CHECK(info.shape == w.sizes().vec());
    CHECK(sameBits(moe::dequantize(info, at::kCPU), w));
    CHECK_FALSE(q.store->get("norm.weight").quantized());
    CHECK(q.store->storedNamesOf("m.weight") == std::vector<std::string>{"m.weight", "m.weight_scale_inv"});
    CHECK(q.store->names() == std::vector<std::string>{"m.weight", "m.weight_scale_inv", "norm.weight"});
  }
  SECTION("mxfp4") {
    QuantStore q({blobOf("e.gate_up_proj_blocks", blocks, moe::DType::U8),
                  blobOf("e.gate_up_proj_scales", readBytes(ref, "mxfp4/random/scales"), moe::DType::U8)},
                 kMxfp4);
    const moe::TensorInfo& info = q.store->get("e.gate_up_proj");
    CHECK(info.quant == moe::QuantFormat::Mxfp4);
    CHECK(info.shape == std::vector<int64_t>{2, 64, 6});
    CHECK(sameBits(moe::dequantize(info, at::kCPU), moe::readFloatTensor(ref, "mxfp4/random/dequant")));
    CHECK(q.store->storedNamesOf("e.gate_up_proj") ==
          std::vector<std::string>{"e.gate_up_proj_blocks", "e.gate_up_proj_scales"});
  }
}

TEST_CASE("bad quantized storage: one message per fault, naming tensors and shapes", "[quant][validation]") {
  const at::Tensor codes = at::zeros({40, 70}, at::kByte);
  const at::Tensor blocks = at::zeros({2, 6, 2, 16}, at::kByte), scales = at::zeros({2, 6, 2}, at::kByte);
  auto fp8 = [&](const at::Tensor& c) { return blobOf("m.weight", c, moe::DType::F8_E4M3); };
  auto scale = [&](std::vector<int64_t> shape) { return blobOf("m.weight_scale_inv", at::ones(shape), moe::DType::F32); };

  std::string msg = errorOf([&] { QuantStore({fp8(codes)}, kFp8Block16); }, moe::ErrorKind::MissingTensor);
  CHECK_THAT(msg, Contains("FP8 weight 'm.weight' (F8_E4M3 [40, 70]) has no scale: 'm.weight_scale_inv' is missing"));

  msg = errorOf([&] { QuantStore({fp8(codes), scale({2, 4})}, kFp8Block16); }, moe::ErrorKind::Shape);
  CHECK_THAT(msg, Contains("'m.weight_scale_inv' has shape [2, 4], expected [3, 5]"));
  CHECK_THAT(msg, Contains("weight_block_size [16, 16]"));

  msg = errorOf([&] { QuantStore({fp8(codes), scale({3, 5})}, {{"quant_method", "fp8"}}); }, moe::ErrorKind::Shape);
  CHECK_THAT(msg, Contains("expected a single value"));

  msg = errorOf([&] { QuantStore({blobOf("m.weight", at::ones({4, 4}).to(at::kBFloat16), moe::DType::BF16), scale({1, 1})}, kFp8Block16); },
                moe::ErrorKind::Format);
  CHECK_THAT(msg, Contains("FP8 scale 'm.weight_scale_inv' (F32 [1, 1]) belongs to no FP8 weight: 'm.weight' is stored as BF16"));

  msg = errorOf([&] { QuantStore({fp8(codes), scale({3, 5})}, nullptr); }, moe::ErrorKind::Config);
  CHECK_THAT(msg, Contains("needs quantization_config.quant_method \"fp8\""));
  CHECK_THAT(msg, Contains("no quantization_config"));

  msg = errorOf([&] { QuantStore({fp8(codes), scale({3, 5})}, {{"quant_method", "fp8"}, {"weight_block_size", {16, 16}},
                                                              {"modules_to_not_convert", {"m"}}}); },
                moe::ErrorKind::Format);
  CHECK_THAT(msg, Contains("modules_to_not_convert"));

  msg = errorOf([&] { QuantStore({blobOf("e.down_proj_blocks", blocks, moe::DType::U8)}, kMxfp4); }, moe::ErrorKind::MissingTensor);
  CHECK_THAT(msg, Contains("MXFP4 blocks 'e.down_proj_blocks' (U8 [2, 6, 2, 16]) have no scales: 'e.down_proj_scales' is missing"));

  msg = errorOf([&] { QuantStore({blobOf("e.down_proj_scales", scales, moe::DType::U8)}, kMxfp4); }, moe::ErrorKind::MissingTensor);
  CHECK_THAT(msg, Contains("have no blocks: 'e.down_proj_blocks' is missing"));

  msg = errorOf([&] {
    QuantStore({blobOf("e.down_proj_blocks", blocks, moe::DType::U8),
                blobOf("e.down_proj_scales", at::zeros({2, 6, 3}, at::kByte), moe::DType::U8)},
               kMxfp4);
  }, moe::ErrorKind::Shape);
  CHECK_THAT(msg, Contains("disagree: the scales should be [2, 6, 2]"));
  CHECK_THAT(msg, Contains("(U8 [2, 6, 3])"));

  msg = errorOf([&] {
    QuantStore({blobOf("e.down_proj_blocks", blocks, moe::DType::U8), blobOf("e.down_proj_scales", scales, moe::DType::U8)},
               kFp8Block16);
  }, moe::ErrorKind::Config);
  CHECK_THAT(msg, Contains("need quantization_config.quant_method \"mxfp4\""));
  CHECK_THAT(msg, Contains("which has \"fp8\""));

  msg = errorOf([&] { QuantStore({blobOf("e.ids", scales, moe::DType::U8)}, kMxfp4); }, moe::ErrorKind::Unsupported);
  CHECK_THAT(msg, Contains("'e.ids' (U8 [2, 6, 2]) is U8"));
}

// ---------------------------------------------------------------------------------------------
// Quantized models end to end: the FP8 fixture (tests/data/hf-tiny/deepseek_v3-fp8, quantized by
// scripts/fixtures/quant_formats.py, references from transformers' dequantized model) and MXFP4
// synth checkpoints; export keeping the source's precision, the BF16 option, the memory preview.
// ---------------------------------------------------------------------------------------------

namespace {

std::string fixture(const std::string& name) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + name; }

std::vector<uint8_t> bytesOf(const moe::TensorInfo& t) { return {t.data, t.data + t.nbytes}; }

// Every MoE block: experts 0..5 kept as singletons, the rest merged in pairs.
moe::MergePlan halfMergedPlan(const moe::Model& m, moe::ExportFormat format) {
  moe::MergePlan plan;
  plan.modelFingerprint = "test";
  plan.format = format;
  const int64_t E = m.arch().numExperts();
  std::vector<int64_t> labels;
  for (int64_t e = 0; e < E; ++e) labels.push_back(e < E / 2 ? e : E / 2 + (e - E / 2) / 2);
  for (size_t j = 0; j < m.moeLayers().size(); ++j)
    plan.layers.push_back(moe::mergeLayerPlan(static_cast<int>(j), labels, moe::MergeStrategy::Average));
  return plan;
}

moe::ExportResult exportTo(const moe::Model& m, const moe::MergePlan& plan, const fs::path& out,
                           moe::ExportPrecision precision = moe::ExportPrecision::Source) {
  moe::ExportOptions o;
  o.fingerprint = "test";
  o.precision = precision;
  return moe::exportMergedModel(m, plan, out.string(), o);
}

// The logits of the merged model as the export stores it (moe::storedMergedBlock).
at::Tensor storedLogits(moe::Model& m, const moe::MergePlan& plan, moe::ExportPrecision precision, const at::Tensor& ids) {
  const moe::MergeSemantics sem =
      plan.format == moe::ExportFormat::Compact ? moe::MergeSemantics::Compact : moe::MergeSemantics::Tied;
  moe::ForwardOptions opts;
  opts.moeOverride = [&](int j, moe::MoeBlock& b) {
    const moe::LayerPlan& lp = *plan.find(j);
    const moe::MoeBlock merged = moe::applyLayerPlan(b, lp, sem);
    b = moe::storedMergedBlock(m, j, b, merged, lp, sem, precision);
  };
  return m.forward(ids, nullptr, opts);
}

double relError(const at::Tensor& got, const at::Tensor& ref) {
  const double scale = ref.abs().max().item<double>();
  return (got - ref).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

int64_t storedBytes(const moe::TensorStore& s) {
  int64_t n = 0;
  for (const auto& name : s.names()) n += static_cast<int64_t>(s.get(name).nbytes);
  return n;
}

json configOf(const std::string& dir) {
  json j;
  std::ifstream(fs::path(dir) / "config.json") >> j;
  return j;
}

}  // namespace

TEST_CASE("the FP8 fixture opens with its logical tensors and runs like transformers' dequantized model", "[quant][fp8]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("deepseek_v3-fp8"), rt);
  const moe::TensorInfo& w = model->store().get("model.layers.1.mlp.experts.3.down_proj.weight");
  CHECK(w.quant == moe::QuantFormat::Fp8);
  CHECK(w.blockRows == 8);
  CHECK_FALSE(model->store().get("model.layers.1.mlp.gate.weight").quantized());  // routers stay BF16
  moe::h5::File ref(fixture("deepseek_v3-fp8") + "/reference.h5", moe::h5::File::Mode::Read);
  const at::Tensor logits = model->forward(moe::readIntTensor(ref, "input_ids"));
  CHECK(relError(logits.to(at::kCPU), moe::readFloatTensor(ref, "logits")) <= 1e-3);
}

TEST_CASE("FP8 compact export: unmerged experts byte for byte, merged ones re-quantized, config kept", "[quant][fp8][export]") {
  moe::initThreads();
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("deepseek_v3-fp8"), rt);
  const moe::MergePlan plan = halfMergedPlan(*model, moe::ExportFormat::Compact);
  Scratch scratch;
  const auto res = exportTo(*model, plan, scratch.dir / "fp8");
  auto back = moe::Model::open(res.folder, rt);
  const moe::TensorStore &src = model->store(), &out = back->store();
  const int64_t E = model->arch().numExperts(), K = plan.layers[0].numGroups;
  REQUIRE(back->arch().numExperts() == K);
  CHECK(configOf(res.folder)["quantization_config"] == configOf(model->folder())["quantization_config"]);

  const int layer = model->moeLayers()[0];
  const std::string experts = "model.layers." + std::to_string(layer) + ".mlp.experts.";
  const moe::MoeBlock merged = moe::applyLayerPlan(model->moeBlock(0), plan.layers[0], moe::MergeSemantics::Compact);
  for (int64_t s = 0; s < K; ++s) {
    for (const std::string proj : {"gate_proj", "up_proj", "down_proj"}) {
      const std::string name = experts + std::to_string(s) + "." + proj + ".weight";
      INFO(name);
      const moe::TensorInfo& o = out.get(name);
      REQUIRE(o.quant == moe::QuantFormat::Fp8);
      if (s < E / 2) {  // a singleton group: the source expert s itself
        CHECK(bytesOf(*o.values) == bytesOf(*src.get(name).values));
        CHECK(bytesOf(*o.scale) == bytesOf(*src.get(name).scale));
      } else {  // a merged pair: re-quantized in the source's block scheme, close to the merged weights
        CHECK(o.scale->shape == src.get(experts + "0." + proj + ".weight").scale->shape);
        const at::Tensor want = proj == "gate_proj" ? merged.gate[s] : proj == "up_proj" ? merged.up[s] : merged.down[s];
        const at::Tensor got = moe::dequantize(o, at::kCPU);
        CHECK((got - want).abs().max().item<double>() <= want.abs().max().item<double>() / 16);
        CHECK(relError(got, want) > 0);  // really re-quantized, not copied
      }
    }
  }
  // Everything outside the merged experts and routers is copied as stored.
  for (const std::string name : {"model.layers.0.self_attn.q_a_proj.weight", "model.layers.0.self_attn.q_a_proj.weight_scale_inv",
                                 "model.layers.0.mlp.down_proj.weight", "model.embed_tokens.weight"})
    CHECK(bytesOf(out.get(name)) == bytesOf(src.get(name)));

  // The export computes what storedMergedBlock says it stores.
  moe::h5::File ref(fixture("deepseek_v3-fp8") + "/reference.h5", moe::h5::File::Mode::Read);
  const at::Tensor ids = moe::readIntTensor(ref, "input_ids");
  CHECK(relError(back->forward(ids), storedLogits(*model, plan, moe::ExportPrecision::Source, ids)) <= 1e-5);

  // The memory preview counts the bytes stored (codes and scales) and the logical parameters.
  const moe::MemoryPreview mem = moe::previewMemory(*model, plan);
  CHECK(mem.bytesAfter == storedBytes(out));
  CHECK(mem.bytesBefore == storedBytes(src));
  int64_t params = 0;
  for (const auto& n : out.names()) params += moe::storedTensor(out, n).params();
  CHECK(mem.paramsAfter == params);
  CHECK(mem.bytesAfter < mem.bytesBefore);
}

TEST_CASE("BF16 export of an FP8 checkpoint: every tensor dequantized, quantization_config removed", "[quant][fp8][export]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("deepseek_v3-fp8"), rt);
  const moe::MergePlan plan = halfMergedPlan(*model, moe::ExportFormat::Compact);
  Scratch scratch;
  const auto res = exportTo(*model, plan, scratch.dir / "bf16", moe::ExportPrecision::BF16);
  CHECK_FALSE(configOf(res.folder).contains("quantization_config"));
  auto back = moe::Model::open(res.folder, rt);
  for (const auto& n : back->store().names()) {
    INFO(n);
    CHECK(moe::isFloatDType(back->store().get(n).dtype));
    CHECK(n.find("_scale_inv") == std::string::npos);
  }
  CHECK(moe::previewMemory(*model, plan, moe::ExportPrecision::BF16).bytesAfter == storedBytes(back->store()));
  // Outside the merged experts and routers: the source's dequantized tensors rounded to BF16.
  int compared = 0;
  for (const auto& n : back->store().names()) {
    if (n.find(".mlp.experts.") != std::string::npos || n.find(".mlp.gate.") != std::string::npos) continue;
    INFO(n);
    CHECK(at::equal(back->loadTensor(n), model->loadTensor(n).to(at::kBFloat16).to(at::kFloat)));
    ++compared;
  }
  CHECK(compared > 20);
  // The merged experts: what storedMergedBlock says a BF16 export stores. (Logits are not compared:
  // the tiny fixture's routing margins are below what BF16 rounding of every weight can flip.)
  for (size_t j = 0; j < model->moeLayers().size(); ++j) {
    const moe::MoeBlock src = model->moeBlock(static_cast<int>(j));
    const moe::LayerPlan& lp = plan.layers[j];
    const moe::MoeBlock merged = moe::applyLayerPlan(src, lp, moe::MergeSemantics::Compact);
    const moe::MoeBlock want = moe::storedMergedBlock(*model, static_cast<int>(j), src, merged, lp,
                                                      moe::MergeSemantics::Compact, moe::ExportPrecision::BF16);
    const moe::MoeBlock got = back->moeBlock(static_cast<int>(j));
    CHECK(at::equal(got.gate, want.gate));
    CHECK(at::equal(got.up, want.up));
    CHECK(at::equal(got.down, want.down));
    CHECK(at::equal(got.routerWeight, want.routerWeight));
  }
}

TEST_CASE("synth --quant: FP8 for every architecture, MXFP4 for gpt-oss; MXFP4 export keeps unmerged experts", "[quant][synth]") {
  const auto rt = moe::test::runtime("fp32");
  Scratch scratch;
  for (const std::string& arch : moe::supportedArchitectures()) {
    DYNAMIC_SECTION("fp8 " << arch) {
      moe::SynthSpec s;
      s.arch = arch;
      s.expertIntermediate = 40;  // partial 16-blocks
      s.quant = "fp8";
      s.fp8BlockRows = s.fp8BlockCols = 16;
      const fs::path dir = scratch.dir / ("fp8-" + arch);
      moe::writeSyntheticModel(s, dir.string());
      auto m = moe::Model::open(dir.string(), rt);
      int quantized = 0;
      for (const auto& n : m->store().names()) quantized += m->store().get(n).quant == moe::QuantFormat::Fp8;
      CHECK(quantized > 0);
      CHECK(configOf(dir.string())["quantization_config"]["weight_block_size"] == json({16, 16}));
      CHECK(m->forward(at::randint(s.vocab, {1, 5}, at::kLong)).isfinite().all().item<bool>());
    }
  }
  SECTION("mxfp4") {
    moe::SynthSpec s;
    s.arch = "gpt_oss";
    s.hidden = 64;
    s.heads = 4;
    s.expertIntermediate = 32;
    s.experts = 4;
    s.quant = "mxfp4";
    const fs::path dir = scratch.dir / "mxfp4";
    moe::writeSyntheticModel(s, dir.string());
    auto m = moe::Model::open(dir.string(), rt);
    const std::string gu = "model.layers.0.mlp.experts.gate_up_proj";
    REQUIRE(m->store().get(gu).quant == moe::QuantFormat::Mxfp4);
    CHECK(m->store().get(gu).shape == std::vector<int64_t>{4, 64, 64});
    CHECK(configOf(dir.string())["quantization_config"]["quant_method"] == "mxfp4");

    // Experts 0, 1 singletons, 2 and 3 merged: slots 0, 1 keep their blocks and scales byte for byte.
    moe::MergePlan plan = halfMergedPlan(*m, moe::ExportFormat::Compact);
    const auto res = exportTo(*m, plan, scratch.dir / "mxfp4-out");
    auto back = moe::Model::open(res.folder, rt);
    const moe::TensorInfo &o = back->store().get(gu), &i = m->store().get(gu);
    REQUIRE(o.quant == moe::QuantFormat::Mxfp4);
    CHECK(o.shape == std::vector<int64_t>{3, 64, 64});
    const size_t perExpert = i.values->nbytes / 4, scalesPerExpert = i.scale->nbytes / 4;
    CHECK(std::equal(o.values->data, o.values->data + 2 * perExpert, i.values->data));
    CHECK(std::equal(o.scale->data, o.scale->data + 2 * scalesPerExpert, i.scale->data));
    const at::Tensor ids = at::randint(s.vocab, {1, 6}, at::kLong);
    CHECK(relError(back->forward(ids), storedLogits(*m, plan, moe::ExportPrecision::Source, ids)) <= 1e-5);
    CHECK(moe::previewMemory(*m, plan).bytesAfter == storedBytes(back->store()));
  }
}


TEST_CASE("the MXFP4 fixture opens with logical fused experts and runs like transformers' dequantized model", "[quant][mxfp4]") {
  const auto rt = moe::test::runtime("fp32");
  auto model = moe::Model::open(fixture("gpt_oss-mxfp4"), rt);
  const moe::TensorInfo& gu = model->store().get("model.layers.0.mlp.experts.gate_up_proj");
  CHECK(gu.quant == moe::QuantFormat::Mxfp4);
  CHECK(gu.shape == std::vector<int64_t>{8, 64, 128});
  CHECK(gu.values->name == "model.layers.0.mlp.experts.gate_up_proj_blocks");
  CHECK_FALSE(model->store().get("model.layers.0.mlp.experts.gate_up_proj_bias").quantized());
  moe::h5::File ref(fixture("gpt_oss-mxfp4") + "/reference.h5", moe::h5::File::Mode::Read);
  const at::Tensor logits = model->forward(moe::readIntTensor(ref, "input_ids"));
  CHECK(relError(logits.to(at::kCPU), moe::readFloatTensor(ref, "logits")) <= 1e-3);
}
