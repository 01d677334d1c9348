#include "core/text/tokenizer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/limits.h"
#include "core/text/added_tokens.h"
#include "core/text/bpe.h"
#include "core/text/decoder.h"
#include "core/text/json_fields.h"
#include "core/text/normalizer.h"
#include "core/text/pre_tokenizer.h"
#include "core/text/utf8.h"

namespace moe {

using nlohmann::json;

struct Tokenizer::Impl {
  std::string source;
  std::unique_ptr<text::Normalizer> normalizer;
  std::unique_ptr<text::PreTokenizer> preTokenizer;
  std::unique_ptr<text::BpeModel> model;
  std::unique_ptr<text::Decoder> decoder;
  std::vector<text::AddedToken> added;
  std::unordered_map<std::string, size_t> addedByContent;  // index into `added`
  std::unordered_map<TokenId, size_t> addedById;
  text::AddedTokenMatcher rawMatcher;         // tokens matched in the raw text
  text::AddedTokenMatcher normalizedMatcher;  // tokens matched after normalization

  void encodeStretch(std::string part, bool atStart, std::vector<TokenId>& ids) const;
};

namespace {

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::Io, "cannot open tokenizer file " + path + ": " + std::strerror(errno));
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size > 0 && static_cast<uint64_t>(size) > limits::kMaxJsonFile)
    throw Error(ErrorKind::Format, "tokenizer file " + path + " is " + std::to_string(size) +
                                       " bytes, more than the limit of " + std::to_string(limits::kMaxJsonFile));
  in.seekg(0, std::ios::beg);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(ErrorKind::Io, "cannot read tokenizer file " + path);
  return buffer.str();
}

std::vector<text::AddedToken> parseAddedTokens(const json& list, const std::string& file) {
  std::vector<text::AddedToken> tokens;
  if (list.is_null()) return tokens;
  const std::string context = file + ": added_tokens";
  if (!list.is_array()) throw Error(ErrorKind::Format, context + " must be a list");
  for (const auto& item : list) {
    text::AddedToken token;
    const json& id = text::requiredField(item, "id", context);
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= limits::kMaxVocab) {
      throw Error(ErrorKind::Format, context + ": entry without a valid id (an integer in [0, " +
                                         std::to_string(limits::kMaxVocab) + ")): " + item.dump());
    }
    token.id = id.get<TokenId>();
    token.content = text::requiredField(item, "content", context).get<std::string>();
    token.special = text::boolField(item, "special", false, context);
    token.singleWord = text::boolField(item, "single_word", false, context);
    token.lstrip = text::boolField(item, "lstrip", false, context);
    token.rstrip = text::boolField(item, "rstrip", false, context);
    token.normalized = text::boolField(item, "normalized", !token.special, context);
    if (token.content.empty()) {
      throw Error(ErrorKind::Format, context + ": token " + std::to_string(token.id) + " is empty");
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

const json& sectionOrNull(const json& root, const char* key) {
  static const json null;
  return root.contains(key) ? root[key] : null;
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::fromFile(const std::string& path) {
  return fromJson(readWholeFile(path), path);
}

Tokenizer Tokenizer::fromJson(const std::string& jsonText, const std::string& sourceName) {
  return readerBoundary(sourceName, [&] { return load(jsonText, sourceName); });
}

Tokenizer Tokenizer::load(const std::string& jsonText, const std::string& sourceName) {
  auto impl = std::make_unique<Impl>();
  impl->source = sourceName;
  const std::string& file = sourceName;
  json root;
  try {
    root = json::parse(jsonText);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Format, file + ": invalid JSON: " + e.what());
  }
  if (!root.is_object()) throw Error(ErrorKind::Format, file + ": top level must be a JSON object");

  try {
    const json& model = text::requiredField(root, "model", file);
    std::string type;
    if (model.is_object() && model.contains("type")) {
      type = text::componentType(model, file + ": model");
    } else if (model.is_object() && model.contains("merges")) {
      type = "BPE";  // very old files leave the type out
    } else {
      throw Error(ErrorKind::Unsupported,
                  file + ": model without a \"type\" is not supported (supported: BPE)");
    }
    if (type != "BPE") throw text::unsupportedComponent(file, "model", type, "BPE");

    impl->normalizer = text::makeNormalizer(sectionOrNull(root, "normalizer"), file);
    impl->preTokenizer = text::makePreTokenizer(sectionOrNull(root, "pre_tokenizer"), file);
    impl->decoder = text::makeDecoder(sectionOrNull(root, "decoder"), file);
    impl->model = std::make_unique<text::BpeModel>(model, file);
    impl->added = parseAddedTokens(sectionOrNull(root, "added_tokens"), file);
  } catch (const json::exception& e) {
    // A field of the wrong JSON type deep inside a section.
    throw Error(ErrorKind::Format, file + ": unexpected content: " + e.what());
  }

  std::vector<text::AddedToken> raw, normalized;
  std::vector<std::string> rawPatterns, normalizedPatterns;
  for (size_t k = 0; k < impl->added.size(); ++k) {
    const auto& token = impl->added[k];
    impl->addedByContent.emplace(token.content, k);
    impl->addedById.emplace(token.id, k);
    if (token.normalized) {  // looked for in the normalized text, after the raw-text tokens
      normalized.push_back(token);
      normalizedPatterns.push_back(impl->normalizer ? impl->normalizer->normalize(token.content)
                                                    : token.content);
    } else {
      raw.push_back(token);
      rawPatterns.push_back(token.content);
    }
  }
  impl->rawMatcher = text::AddedTokenMatcher(std::move(raw), std::move(rawPatterns));
  impl->normalizedMatcher =
      text::AddedTokenMatcher(std::move(normalized), std::move(normalizedPatterns));
  return Tokenizer(std::move(impl));
}

void Tokenizer::Impl::encodeStretch(std::string part, bool atStart,
                                    std::vector<TokenId>& ids) const {
  if (normalizer) part = normalizer->normalize(std::move(part));
  for (const auto& seg : normalizedMatcher.split(part)) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    if (seg.begin == seg.end) continue;
    std::vector<text::Piece> pieces{
        {part.substr(seg.begin, seg.end - seg.begin), atStart && seg.begin == 0}};
    if (preTokenizer) preTokenizer->apply(pieces);
    for (const auto& piece : pieces) model->tokenize(piece.text, ids);
  }
}

std::vector<TokenId> Tokenizer::encode(std::string_view input) const {
  const std::string text = text::toValidUtf8(input);
  std::vector<TokenId> ids;
  for (const auto& seg : impl_->rawMatcher.split(text)) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
    } else if (seg.begin != seg.end) {
      impl_->encodeStretch(text.substr(seg.begin, seg.end - seg.begin), seg.begin == 0, ids);
    }
  }
  return ids;
}

std::string Tokenizer::decode(const std::vector<TokenId>& ids, bool skipSpecialTokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (TokenId id : ids) {
    if (const auto it = impl_->addedById.find(id); it != impl_->addedById.end()) {
      const auto& token = impl_->added[it->second];
      if (!(skipSpecialTokens && token.special)) tokens.push_back(token.content);
    } else if (const std::string* token = impl_->model->idToToken(id)) {
      tokens.push_back(*token);
    }
  }
  if (!impl_->decoder) {
    std::string joined;
    for (size_t k = 0; k < tokens.size(); ++k) joined += (k ? " " : "") + tokens[k];
    return joined;
  }
  impl_->decoder->apply(tokens);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

std::optional<TokenId> Tokenizer::tokenToId(std::string_view token) const {
  const std::string key(token);
  if (const auto it = impl_->addedByContent.find(key); it != impl_->addedByContent.end()) {
    return impl_->added[it->second].id;
  }
  return impl_->model->tokenToId(key);
}

std::optional<std::string> Tokenizer::idToToken(TokenId id) const {
  if (const auto it = impl_->addedById.find(id); it != impl_->addedById.end()) {
    return impl_->added[it->second].content;
  }
  if (const std::string* token = impl_->model->idToToken(id)) return *token;
  return std::nullopt;
}

bool Tokenizer::isSpecialToken(TokenId id) const {
  const auto it = impl_->addedById.find(id);
  return it != impl_->addedById.end() && impl_->added[it->second].special;
}

size_t Tokenizer::vocabSize() const {
  size_t limit = impl_->model->idLimit();
  for (const auto& token : impl_->added) limit = std::max(limit, static_cast<size_t>(token.id) + 1);
  return limit;
}

const std::string& Tokenizer::source() const { return impl_->source; }

}  // namespace moe
