#include "core/text/calibration.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text/npy.h"
#include "core/text/utf8.h"

namespace moe {
namespace {

using nlohmann::json;

std::string lowerExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool isBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

std::string readCalibrationFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(ErrorKind::Io, "calibration path " + path + " is a directory, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorKind::Io,
                "cannot open calibration file " + path + ": " + std::strerror(errno));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(ErrorKind::Io, "cannot read calibration file " + path);
  if (content.compare(0, 3, "\xEF\xBB\xBF") == 0) content.erase(0, 3);  // UTF-8 BOM
  if (isBlank(content))
    throw Error(ErrorKind::InvalidArgument, "calibration file " + path + " is empty");
  return text::toValidUtf8(content);
}

std::string keysOf(const json& object) {
  std::string keys;
  for (auto it = object.begin(); it != object.end(); ++it)
    keys += (keys.empty() ? "" : ", ") + it.key();
  return keys.empty() ? "none" : keys;
}

// The document of one JSON value (an object holding `field`, or a bare string in arrays).
std::string documentOf(const json& value, const std::string& field, const std::string& where,
                       bool allowString) {
  if (allowString && value.is_string()) return value.get<std::string>();
  if (!value.is_object()) throw Error(ErrorKind::Format, where + ": expected a JSON object");
  const auto it = value.find(field);
  if (it == value.end()) {
    throw Error(ErrorKind::InvalidArgument,
                where + ": no field \"" + field + "\" (fields present: " + keysOf(value) + ")");
  }
  if (!it->is_string())
    throw Error(ErrorKind::Format, where + ": field \"" + field + "\" is not a string");
  return it->get<std::string>();
}

std::vector<std::string> parseJsonDocuments(const std::string& content, const std::string& path,
                                            const std::string& field) {
  std::vector<std::string> docs;
  const size_t first = content.find_first_not_of(" \t\r\n");
  if (content[first] == '[') {  // one JSON array instead of JSON lines
    json array;
    try {
      array = json::parse(content);
    } catch (const json::exception& e) {
      throw Error(ErrorKind::Format, path + ": invalid JSON: " + e.what());
    }
    for (size_t k = 0; k < array.size(); ++k) {
      docs.push_back(documentOf(array[k], field, path + ": item " + std::to_string(k + 1), true));
    }
    return docs;
  }
  size_t lineNo = 0;
  for (size_t pos = 0; pos < content.size();) {
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    const std::string_view line(content.data() + pos, end - pos);
    pos = end + 1;
    ++lineNo;
    if (isBlank(line)) continue;
    const std::string where = path + ":" + std::to_string(lineNo);
    json value;
    try {
      value = json::parse(line);
    } catch (const json::exception& e) {
      throw Error(ErrorKind::Format, where + ": invalid JSON: " + e.what());
    }
    docs.push_back(documentOf(value, field, where, false));
  }
  return docs;
}

std::vector<std::string> parsePlainDocuments(const std::string& content, PlainTextSplit split) {
  if (split == PlainTextSplit::WholeFile) return {content};
  std::vector<std::string> docs;
  std::string paragraph;
  bool open = false;
  for (size_t pos = 0; pos <= content.size();) {
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    std::string_view line(content.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (isBlank(line)) {
      if (open) docs.push_back(std::move(paragraph));
      paragraph.clear();
      open = false;
      continue;
    }
    if (open) paragraph += '\n';
    paragraph.append(line);
    open = true;
  }
  if (open) docs.push_back(std::move(paragraph));
  return docs;
}

void requirePositive(size_t n, size_t len) {
  if (n == 0 || len == 0) {
    throw Error(ErrorKind::InvalidArgument,
                "calibration needs at least one sequence of at least one token "
                "(got " +
                    std::to_string(n) + " x " + std::to_string(len) + ")");
  }
}

// Unbiased integer in [0, range) from raw mt19937_64 output.
uint64_t uniformBelow(std::mt19937_64& rng, uint64_t range) {
  const uint64_t threshold = (0 - range) % range;  // 2^64 mod range
  for (;;) {
    const uint64_t r = rng();
    if (r >= threshold) return r % range;
  }
}

}  // namespace

CalibFormat resolveCalibFormat(const std::string& path, const CalibReadOptions& options) {
  if (options.format != CalibFormat::Auto) return options.format;
  const std::string ext = lowerExtension(path);
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") return CalibFormat::JsonLines;
  if (ext == ".npy") return CalibFormat::Npy;
  return CalibFormat::PlainText;
}

std::vector<std::string> readCalibrationDocuments(const std::string& path,
                                                  const CalibReadOptions& options) {
  const CalibFormat format = resolveCalibFormat(path, options);
  if (format == CalibFormat::Npy) {
    throw Error(ErrorKind::InvalidArgument,
                path + " holds token ids, not text documents (use loadCalibrationStream)");
  }
  const std::string content = readCalibrationFile(path);
  std::vector<std::string> docs = format == CalibFormat::JsonLines
                                      ? parseJsonDocuments(content, path, options.textField)
                                      : parsePlainDocuments(content, options.plainTextSplit);
  if (docs.empty())
    throw Error(ErrorKind::InvalidArgument, "calibration file " + path + " has no documents");
  return docs;
}

std::vector<TokenId> tokenizeDocuments(const Tokenizer& tokenizer,
                                       const std::vector<std::string>& documents, TokenId eosId) {
  std::vector<TokenId> stream;
  for (const auto& doc : documents) {
    const auto ids = tokenizer.encode(doc);
    stream.insert(stream.end(), ids.begin(), ids.end());
    stream.push_back(eosId);
  }
  return stream;
}

std::vector<TokenId> loadCalibrationStream(const std::string& path, const Tokenizer& tokenizer,
                                           TokenId eosId, const CalibReadOptions& options) {
  if (resolveCalibFormat(path, options) != CalibFormat::Npy) {
    return tokenizeDocuments(tokenizer, readCalibrationDocuments(path, options), eosId);
  }
  return loadNpyTokenStream(path, tokenizer.vocabSize(), tokenizer.source());
}

std::vector<TokenId> loadNpyTokenStream(const std::string& path, size_t vocabLimit, const std::string& vocabSource) {
  NpyTokenIds npy = readNpyTokenIds(path);
  if (npy.ids.empty())
    throw Error(ErrorKind::InvalidArgument, "calibration file " + path + " has no token ids");
  for (size_t k = 0; k < npy.ids.size(); ++k) {
    if (static_cast<size_t>(npy.ids[k]) >= vocabLimit) {
      throw Error(ErrorKind::InvalidArgument,
                  path + ": token id " + std::to_string(npy.ids[k]) + " at position " +
                      std::to_string(k) + " is outside the vocabulary of " + vocabSource +
                      " (" + std::to_string(vocabLimit) + " ids)");
    }
  }
  return std::move(npy.ids);
}

TokenBatch leadingSequences(const std::vector<TokenId>& stream, size_t n, size_t len) {
  requirePositive(n, len);
  if (stream.size() / len < n) {
    throw Error(ErrorKind::InvalidArgument,
                "calibration needs " + std::to_string(n) + " x " + std::to_string(len) + " = " +
                    std::to_string(n * len) + " tokens but the text yields only " +
                    std::to_string(stream.size()) + " (enough for " +
                    std::to_string(stream.size() / len) + " sequences of " + std::to_string(len) +
                    ")");
  }
  TokenBatch batch{
      n, len,
      std::vector<TokenId>(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(n * len))};
  return batch;
}

TokenBatch randomWindows(const std::vector<TokenId>& stream, size_t n, size_t len, uint64_t seed) {
  requirePositive(n, len);
  if (stream.size() < len) {
    throw Error(ErrorKind::InvalidArgument,
                "a window of " + std::to_string(len) +
                    " tokens does not fit in the calibration text, which yields only " +
                    std::to_string(stream.size()) + " tokens");
  }
  std::mt19937_64 rng(seed);
  const uint64_t starts = stream.size() - len + 1;
  TokenBatch batch{n, len, {}};
  batch.ids.reserve(n * len);
  for (size_t i = 0; i < n; ++i) {
    const auto start = static_cast<std::ptrdiff_t>(uniformBelow(rng, starts));
    batch.ids.insert(batch.ids.end(), stream.begin() + start,
                     stream.begin() + start + static_cast<std::ptrdiff_t>(len));
  }
  return batch;
}

TokenBatch consecutiveSequences(const std::vector<TokenId>& stream, size_t len) {
  if (len == 0)
    throw Error(ErrorKind::InvalidArgument, "sequence length must be at least one token");
  const size_t n = stream.size() / len;
  if (n == 0) {
    throw Error(ErrorKind::InvalidArgument,
                "evaluation text yields only " + std::to_string(stream.size()) +
                    " tokens, fewer than one sequence of " + std::to_string(len));
  }
  return leadingSequences(stream, n, len);
}

}  // namespace moe
