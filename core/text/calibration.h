#pragma once
// Calibration text: reading documents, turning them into one token stream, and cutting that
// stream into fixed-length sequences.
//
// File formats (CalibFormat::Auto picks by extension):
//   .jsonl / .ndjson / .json  JSON lines: one object per line, the document is the string in
//                             `textField` (default "text"); blank lines are skipped. A file
//                             whose first character is '[' is read as one JSON array of such
//                             objects (or of plain strings).
//   .npy                      integer token ids (see npy.h), used verbatim: no tokenization and
//                             no EOS insertion; a 2-D array is read row after row.
//   anything else             plain UTF-8 text. By default every blank-line-separated paragraph
//                             is one document (lines inside a paragraph are joined with "\n",
//                             CRLF becomes LF); PlainTextSplit::WholeFile makes the whole file
//                             one document. Invalid UTF-8 becomes U+FFFD, a UTF-8 BOM is dropped.
//
// Default protocol (leadingSequences): tokenize each document without special tokens, append
// EOS after every document, concatenate in file order, take the first N x L tokens as N
// sequences of L. randomWindows draws N windows of L tokens at seeded random offsets instead;
// consecutiveSequences gives the perplexity protocol (all non-overlapping L-token sequences,
// remainder dropped).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/text/tokenizer.h"

namespace moe {

enum class CalibFormat { Auto, JsonLines, PlainText, Npy };
enum class PlainTextSplit { Paragraphs, WholeFile };

struct CalibReadOptions {
  CalibFormat format = CalibFormat::Auto;
  std::string textField = "text";
  PlainTextSplit plainTextSplit = PlainTextSplit::Paragraphs;
};

// Format actually used for `path` under `options` (resolves Auto by extension).
CalibFormat resolveCalibFormat(const std::string& path, const CalibReadOptions& options = {});

// Documents of a JSON-lines or plain-text file, in file order. Throws Error: Io (missing or
// unreadable), InvalidArgument (empty file, no documents, missing text field - the message
// names the line and the keys present), Format (invalid JSON, field not a string, a .npy file).
std::vector<std::string> readCalibrationDocuments(const std::string& path,
                                                  const CalibReadOptions& options = {});

// Tokenizes every document (no special tokens) and appends `eosId` after each one.
std::vector<TokenId> tokenizeDocuments(const Tokenizer& tokenizer,
                                       const std::vector<std::string>& documents, TokenId eosId);

// The whole token stream of a calibration file: tokenized text + EOS per document, or the ids
// of a .npy file (checked to be below tokenizer.vocabSize()).
std::vector<TokenId> loadCalibrationStream(const std::string& path, const Tokenizer& tokenizer,
                                           TokenId eosId, const CalibReadOptions& options = {});

// The ids of a .npy token file, each checked to be below vocabLimit (vocabSource names where that
// limit comes from, for the message). Needs no tokenizer: the ids are already tokens.
std::vector<TokenId> loadNpyTokenStream(const std::string& path, size_t vocabLimit,
                                        const std::string& vocabSource);

// N sequences of L tokens, row-major.
struct TokenBatch {
  size_t numSequences = 0;
  size_t seqLen = 0;
  std::vector<TokenId> ids;  // numSequences * seqLen
  const TokenId* sequence(size_t i) const { return ids.data() + i * seqLen; }
};

// Default protocol: the first n*len tokens. Throws InvalidArgument (naming how many tokens are
// available) when the stream is too short, or when n or len is zero.
TokenBatch leadingSequences(const std::vector<TokenId>& stream, size_t n, size_t len);

// n windows of len tokens starting at uniformly drawn offsets (with replacement) of the stream,
// from std::mt19937_64(seed). The offsets are computed without std::uniform_int_distribution,
// so a seed gives the same windows with every standard library.
TokenBatch randomWindows(const std::vector<TokenId>& stream, size_t n, size_t len, uint64_t seed);

// Perplexity protocol: floor(size/len) consecutive non-overlapping sequences, remainder dropped.
// Throws InvalidArgument when the stream is shorter than len.
TokenBatch consecutiveSequences(const std::vector<TokenId>& stream, size_t len);

}  // namespace moe
