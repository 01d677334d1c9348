#pragma once
// How closely a variant's free-running (greedy) continuations follow the original's: the length of
// the identical prefix, and token-level ROUGE-L (the F-measure of their longest common
// subsequence, Lin 2004, with beta = 1). Both are computed over the new tokens only.
#include <cstdint>
#include <vector>

namespace moe {

// The number of leading tokens the two continuations share.
int64_t identicalPrefixLength(const std::vector<int64_t>& reference, const std::vector<int64_t>& candidate);
// The length of their longest common subsequence.
int64_t longestCommonSubsequence(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// 2 P R / (P + R) with P = LCS / |candidate|, R = LCS / |reference|; 1 when both are empty, 0 when one is.
double rougeL(const std::vector<int64_t>& reference, const std::vector<int64_t>& candidate);

struct FreeRunningAgreement {
  double meanIdenticalPrefix = 0;  // tokens
  double meanRougeL = 0;
  int64_t prompts = 0;
};
// Means over prompts; both lists hold one continuation per prompt, in the same order.
FreeRunningAgreement freeRunningAgreement(const std::vector<std::vector<int64_t>>& reference,
                                          const std::vector<std::vector<int64_t>>& candidate);

}  // namespace moe
