// Llama-4 beyond what the fixture-driven tests check: that the two fixtures (tests/data/hf-tiny/llama4,
// the released multimodal wrapper, and llama4_text) exercise every Llama-4-specific path, so that their
// agreement with transformers in test_forward means something; config.json variants transformers
// reads the same way (fields it derives when absent, the legacy numeric attn_temperature_tuning)
// against the same reference logits; and the errors of configs Llama-4 cannot take.
#include "tests/catch_torch.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/io/h5file.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string fixture(const std::string& arch) { return std::string(MOESCOPE_TEST_DATA) + "/hf-tiny/" + arch; }

double relativeError(const at::Tensor& got, const at::Tensor& ref) {
  REQUIRE(got.sizes() == ref.sizes());
  const double scale = ref.abs().max().item<double>();
  return (got.to(at::kCPU, at::kFloat) - ref.to(at::kCPU, at::kFloat)).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

// A copy of a fixture's checkpoint whose config.json (its language-model fields) is edited.
struct EditedFixture {
  fs::path dir;
  EditedFixture(const std::string& arch, const std::function<void(json& text)>& edit) {
    static int counter = 0;
    dir = fs::temp_directory_path() / ("moescope-llama4-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::copy_file(fs::path(fixture(arch)) / "model.safetensors", dir / "model.safetensors");
    json cfg;
    std::ifstream(fs::path(fixture(arch)) / "config.json") >> cfg;
    edit(cfg.contains("text_config") ? cfg["text_config"] : cfg);
    std::ofstream(dir / "config.json") << cfg.dump(2);
  }
  ~EditedFixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

at::Tensor referenceLogits(const std::string& arch) {
  moe::h5::File ref(fixture(arch) + "/reference.h5", moe::h5::File::Mode::Read);
  return moe::readFloatTensor(ref, "logits");
}

at::Tensor logitsOf(const std::string& folder, const std::string& arch, const moe::ForwardOptions& options = {}) {
  auto model = moe::Model::open(folder, moe::test::runtime("fp32"));
  moe::h5::File ref(fixture(arch) + "/reference.h5", moe::h5::File::Mode::Read);
  return model->forward(moe::readIntTensor(ref, "input_ids"), nullptr, options);
}

}  // namespace

// Each edit switches one feature off; the logits must then leave transformers' by far more than the
// forward tests' tolerance (1e-3), or that feature would not be tested by them.
TEST_CASE("the llama4 fixtures exercise every Llama-4 path", "[arch][llama4]") {
  moe::initThreads();
  struct Case {
    const char* arch;
    const char* what;
    std::function<void(json&)> edit;
  };
  const std::vector<Case> cases{
      {"llama4", "chunked attention", [](json& t) { t["attention_chunk_size"] = 4096; }},
      {"llama4", "temperature tuning", [](json& t) { t["attn_temperature_tuning"] = false; }},
      {"llama4", "q/k RMS norm", [](json& t) { t["use_qk_norm"] = false; }},
      {"llama4", "NoPE layers", [](json& t) { t["no_rope_layers"] = {1, 1, 1, 1}; }},
      {"llama4", "llama3 rope scaling", [](json& t) { t["rope_parameters"]["rope_type"] = "default"; }},
      {"llama4_text", "chunked attention", [](json& t) { t["attention_chunk_size"] = 4096; }},
      {"llama4_text", "temperature tuning", [](json& t) { t["attn_temperature_tuning"] = false; }},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.arch << ": " << c.what) {
      EditedFixture edited(c.arch, c.edit);
      CHECK(relativeError(logitsOf(edited.dir.string(), c.arch), referenceLogits(c.arch)) > 1e-2);
    }
  }
  for (const char* arch : {"llama4", "llama4_text"}) {
    DYNAMIC_SECTION(arch << ": routing weight on the expert input") {
      moe::ForwardOptions scaleOutput;
      scaleOutput.moeOverride = [](int, moe::MoeBlock& b) {
        REQUIRE(b.weightsScaleInput);
        b.weightsScaleInput = false;
      };
      CHECK(relativeError(logitsOf(fixture(arch), arch, scaleOutput), referenceLogits(arch)) > 1e-2);
      CHECK(relativeError(logitsOf(fixture(arch), arch), referenceLogits(arch)) <= 1e-5);
    }
  }
}

// transformers' Llama4TextConfig fills moe_layers from interleave_moe_layer_step, no_rope_layers from
// no_rope_layer_interval (also when it is the empty list, as in the released Scout config) and
// layer_types from no_rope_layers; the llama4_text fixture's saved lists are exactly those defaults
// (step 1, interval 3), so without them the logits must still be transformers'.
TEST_CASE("llama4 derives the layer lists transformers derives", "[arch][llama4]") {
  moe::initThreads();
  SECTION("lists absent") {
    EditedFixture edited("llama4_text", [](json& t) {
      t.erase("moe_layers");
      t.erase("no_rope_layers");
      t.erase("layer_types");
    });
    CHECK(relativeError(logitsOf(edited.dir.string(), "llama4_text"), referenceLogits("llama4_text")) <= 1e-5);
  }
  SECTION("no_rope_layers empty, attn_temperature_tuning numeric (the first releases' spellings)") {
    EditedFixture edited("llama4_text", [](json& t) {
      t["no_rope_layers"] = json::array();
      t["attn_temperature_tuning"] = 4;
    });
    CHECK(relativeError(logitsOf(edited.dir.string(), "llama4_text"), referenceLogits("llama4_text")) <= 1e-5);
  }
  SECTION("interleave_moe_layer_step") {
    EditedFixture edited("llama4", [](json& t) {
      t.erase("moe_layers");
      t["interleave_moe_layer_step"] = 2;  // layers 1 and 3, as the fixture's moe_layers
    });
    auto model = moe::Model::open(edited.dir.string(), moe::test::runtime("fp32"));
    CHECK(model->moeLayers() == std::vector<int>{1, 3});
  }
}

TEST_CASE("llama4 reads the wrapper's text_config and names its decoder's tensors", "[arch][llama4]") {
  auto model = moe::Model::open(fixture("llama4"), moe::test::runtime("fp32"));
  CHECK(model->config().textConfigKey == "text_config");
  CHECK(model->config().modelType == "llama4");
  CHECK(model->config().hiddenSize == 32);
  CHECK(model->arch().embeddingName() == "language_model.model.embed_tokens.weight");
  CHECK(model->arch().lmHeadName() == "language_model.lm_head.weight");
  CHECK(model->arch().moePrefix(3) == "language_model.model.layers.3.feed_forward.");
  CHECK(model->arch().decoderLayerOf("language_model.model.layers.2.self_attn.q_proj.weight") == 2);
  CHECK(model->arch().decoderLayerOf("vision_model.model.layers.0.mlp.fc1.weight") == -1);
  auto text = moe::Model::open(fixture("llama4_text"), moe::test::runtime("fp32"));
  CHECK(text->config().textConfigKey.empty());
  CHECK(text->arch().lmHeadName() == "lm_head.weight");
}

TEST_CASE("llama4 refuses configs it cannot run", "[arch][llama4]") {
  auto failure = [](const std::string& arch, const std::function<void(json&)>& edit) {
    EditedFixture edited(arch, edit);
    try {  // config errors surface at open, rope's when the forward pass builds its tables
      auto model = moe::Model::open(edited.dir.string(), moe::test::runtime("fp32"));
      model->forward(at::zeros({1, 4}, at::kLong));
    } catch (const moe::Error& e) {
      CHECK(e.kind() == moe::ErrorKind::Config);
      return std::string(e.what());
    }
    FAIL("opened");
    return std::string();
  };
  CHECK_THAT(failure("llama4_text", [](json& t) { t["no_rope_layers"] = {1, 0}; }),
             moe::test::Contains("no_rope_layers has 2 entries for 3 layers"));
  CHECK_THAT(failure("llama4_text", [](json& t) { t["moe_layers"] = {0, 7}; }),
             moe::test::Contains("moe_layers names layer 7, the model has 3"));
  CHECK_THAT(failure("llama4_text",
                     [](json& t) { t["layer_types"] = {"chunked_attention", "sliding_attention", "full_attention"}; }),
             moe::test::Contains("layer_types[1] is 'sliding_attention'"));
  CHECK_THAT(failure("llama4_text", [](json& t) { t["attention_chunk_size"] = 0; }),
             moe::test::Contains("uses chunked attention, but attention_chunk_size is not positive"));
  CHECK_THAT(failure("llama4_text",
                     [](json& t) { t["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 10.0}}; }),
             moe::test::Contains("rope type 'llama3' needs rope_parameters.factor"));
  // model_type llama4 with the text model's fields at the top level: transformers would build its
  // default (Scout-sized) text model instead.
  EditedFixture flat("llama4_text", [](json& t) { t["model_type"] = "llama4"; });
  try {
    moe::Model::open(flat.dir.string(), moe::test::runtime("fp32"));
    FAIL("opened");
  } catch (const moe::Error& e) {
    CHECK(e.kind() == moe::ErrorKind::Config);
    CHECK_THAT(e.what(), moe::test::Contains("model_type 'llama4' needs the language model's fields in text_config"));
  }
}
