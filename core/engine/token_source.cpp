#include "core/engine/token_source.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/engine/tensor_h5.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/model/config.h"

namespace fs = std::filesystem;

namespace moe {
namespace {

std::optional<TokenId> eosFromJson(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("eos_token_id")) return std::nullopt;
  const auto& v = j["eos_token_id"];
  const nlohmann::json* id = v.is_number_integer() ? &v : v.is_array() && !v.empty() && v[0].is_number_integer() ? &v[0] : nullptr;
  if (!id) return std::nullopt;
  if (id->get<int64_t>() < 0 || id->get<int64_t>() >= limits::kMaxVocab)  // would wrap in a TokenId
    throw Error(ErrorKind::Config, file.string() + ": eos_token_id " + id->dump() + " is not a valid token id (expected [0, " +
                                       std::to_string(limits::kMaxVocab) + "))");
  return static_cast<TokenId>(id->get<int64_t>());
}

// Ids of a .npy file, checked against the model's vocab_size: no tokenizer and no EOS are needed.
std::vector<TokenId> npyStream(const std::string& source, const std::string& modelDir) {
  const ModelConfig cfg = ModelConfig::fromFile(modelDir);
  return loadNpyTokenStream(source, static_cast<size_t>(cfg.vocabSize), cfg.source() + " (vocab_size)");
}

}  // namespace

TokenId endOfTextId(const std::string& modelDir, const Tokenizer& tokenizer) {
  if (auto id = eosFromJson(fs::path(modelDir) / "config.json")) return *id;
  if (auto id = eosFromJson(fs::path(modelDir) / "generation_config.json")) return *id;
  for (const char* token : {"<|endoftext|>", "</s>", "<|end_of_text|>"})
    if (auto id = tokenizer.tokenToId(token)) return *id;
  throw Error(ErrorKind::Config, modelDir + ": no eos_token_id in config.json or generation_config.json, and the "
                                            "tokenizer has no <|endoftext|> or </s> token");
}

at::Tensor loadTokenIds(const std::string& source, const std::string& modelDir, const TokenSourceOptions& o) {
  // FILE.h5:DATASET is the one form with a colon after the extension.
  const size_t colon = source.rfind(':');
  if (colon != std::string::npos && colon > 0 && !fs::exists(source)) return readIdsTensor(source);
  if (!fs::exists(source)) throw Error(ErrorKind::Io, source + ": no such file");
  if (o.sequences <= 0 || o.length <= 0)
    throw Error(ErrorKind::InvalidArgument, "sequences and length must be positive");
  auto textStream = [&] {
    const std::string tokPath = o.tokenizerPath.empty() ? (fs::path(modelDir) / "tokenizer.json").string() : o.tokenizerPath;
    if (!fs::exists(tokPath))
      throw Error(ErrorKind::Io, tokPath + ": no tokenizer.json to tokenize " + source +
                                     " with (pass pre-tokenized ids as FILE.h5:DATASET or .npy, or give --tokenizer)");
    const Tokenizer tokenizer = Tokenizer::fromFile(tokPath);
    return tokenizeDocuments(tokenizer, readCalibrationDocuments(source, o.read), endOfTextId(modelDir, tokenizer));
  };
  const std::vector<TokenId> stream =
      resolveCalibFormat(source, o.read) == CalibFormat::Npy ? npyStream(source, modelDir) : textStream();
  const size_t n = static_cast<size_t>(o.sequences), len = static_cast<size_t>(o.length);
  const TokenBatch batch = o.allSequences    ? consecutiveSequences(stream, len)
                           : o.randomWindows ? randomWindows(stream, n, len, o.seed)
                                             : leadingSequences(stream, n, len);
  at::Tensor ids = at::empty({static_cast<int64_t>(batch.numSequences), static_cast<int64_t>(batch.seqLen)}, at::kLong);
  auto* p = ids.data_ptr<int64_t>();
  for (size_t i = 0; i < batch.ids.size(); ++i) p[i] = batch.ids[i];
  return ids;
}

}  // namespace moe
