#pragma once
// Token ids for a model from any source a user has: pre-tokenized ids (FILE.h5:DATASET, .npy) or
// text (JSON lines, plain text) tokenized with the model's own tokenizer.json.
#include <ATen/ATen.h>

#include <string>

#include "core/text/calibration.h"

namespace moe {

struct TokenSourceOptions {
  int64_t sequences = 32;
  int64_t length = 256;
  bool randomWindows = false;  // default protocol: the first sequences x length tokens
  uint64_t seed = 0;
  bool allSequences = false;   // perplexity protocol: every consecutive full sequence
  CalibReadOptions read;
  std::string tokenizerPath;   // default: <model>/tokenizer.json
};

// The end-of-text id appended after each document: config.json's eos_token_id (first when a
// list), else generation_config.json's, else the tokenizer's <|endoftext|> or </s>.
TokenId endOfTextId(const std::string& modelDir, const Tokenizer& tokenizer);

// -> [sequences, length] int64. An HDF5 dataset is used as stored (its own shape).
at::Tensor loadTokenIds(const std::string& source, const std::string& modelDir, const TokenSourceOptions& options);

}  // namespace moe
