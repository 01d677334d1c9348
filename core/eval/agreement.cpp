#include "core/eval/agreement.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace moe {

int64_t identicalPrefixLength(const std::vector<int64_t>& reference, const std::vector<int64_t>& candidate) {
  const size_t n = std::min(reference.size(), candidate.size());
  size_t i = 0;
  while (i < n && reference[i] == candidate[i]) ++i;
  return static_cast<int64_t>(i);
}

int64_t longestCommonSubsequence(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  // One row of the dynamic-programming table at a time: O(|a| |b|) time, O(|b|) memory.
  std::vector<int64_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

double rougeL(const std::vector<int64_t>& reference, const std::vector<int64_t>& candidate) {
  if (reference.empty() && candidate.empty()) return 1.0;
  if (reference.empty() || candidate.empty()) return 0.0;
  const double lcs = static_cast<double>(longestCommonSubsequence(reference, candidate));
  if (lcs == 0) return 0.0;
  const double p = lcs / static_cast<double>(candidate.size()), r = lcs / static_cast<double>(reference.size());
  return 2 * p * r / (p + r);
}

FreeRunningAgreement freeRunningAgreement(const std::vector<std::vector<int64_t>>& reference,
                                          const std::vector<std::vector<int64_t>>& candidate) {
  if (reference.size() != candidate.size())
    throw Error(ErrorKind::InvalidArgument, "agreement: " + std::to_string(reference.size()) +
                                                " reference continuations but " + std::to_string(candidate.size()) +
                                                " candidate ones");
  FreeRunningAgreement a;
  a.prompts = static_cast<int64_t>(reference.size());
  if (a.prompts == 0) return a;
  for (size_t i = 0; i < reference.size(); ++i) {
    a.meanIdenticalPrefix += static_cast<double>(identicalPrefixLength(reference[i], candidate[i]));
    a.meanRougeL += rougeL(reference[i], candidate[i]);
  }
  a.meanIdenticalPrefix /= static_cast<double>(a.prompts);
  a.meanRougeL /= static_cast<double>(a.prompts);
  return a;
}

}  // namespace moe
