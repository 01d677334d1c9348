#pragma once
// Pre-tokenized calibration data as a NumPy .npy file of integer token ids.
// Accepted: little-endian (or single-byte) int8/16/32/64 and uint8/16/32/64, C order, 1-D (one
// token stream) or 2-D (rows of sequences, read row after row). Every id must fit in TokenId
// and be non-negative.
#include <cstddef>
#include <string>
#include <vector>

#include "core/text/tokenizer.h"

namespace moe {

struct NpyTokenIds {
  std::vector<size_t> shape;  // 1 or 2 dimensions
  std::vector<TokenId> ids;   // C order
};

// Throws Error: Io (missing/unreadable), Format (not .npy, truncated, bad header, negative or
// too large ids, wrong rank), Unsupported (Fortran order, big-endian, float dtypes).
NpyTokenIds readNpyTokenIds(const std::string& path);

}  // namespace moe
