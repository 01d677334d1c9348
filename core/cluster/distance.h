#pragma once
// Pairwise distances between the rows of a dense [n, d] matrix (one row per expert), in the
// "condensed" layout of scipy.spatial.distance.pdist so that the linkage code can consume
// them exactly as scipy does. Everything is computed in double whatever the input type.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <string>
#include <vector>

namespace moe {

enum class DistanceMetric {
  Euclidean,  // sqrt(sum (u - v)^2)
  Cosine,     // 1 - u.v / (|u| |v|), cosine clipped to [-1, 1] like scipy; zero rows are rejected
};

const char* distanceMetricName(DistanceMetric metric);
// "euclidean" / "cosine" (case-sensitive); throws moe::Error(InvalidArgument) otherwise.
DistanceMetric parseDistanceMetric(const std::string& name);

// Position of pair (i, j), i != j, in a condensed vector of n observations (pdist order:
// (0,1), (0,2), ..., (0,n-1), (1,2), ...). Unchecked; symmetric in i and j.
inline int64_t condensedIndex(int64_t n, int64_t i, int64_t j) {
  if (i > j) std::swap(i, j);
  return n * i - (i * (i + 1)) / 2 + (j - i - 1);
}

// The strict upper triangle of a symmetric n x n distance matrix, row by row.
class CondensedMatrix {
 public:
  CondensedMatrix() = default;
  // Takes ownership of values; throws when values.size() != n(n-1)/2 or n < 1.
  CondensedMatrix(int64_t n, std::vector<double> values);

  int64_t size() const { return n_; }  // number of observations
  const std::vector<double>& values() const { return values_; }
  // Distance between observations i and j (0 when i == j). Bounds-checked.
  double operator()(int64_t i, int64_t j) const;

  // Full row-major n x n matrix with a zero diagonal.
  std::vector<double> toSquare() const;

 private:
  int64_t n_ = 0;
  std::vector<double> values_;
};

// Distances between the rows of data (row-major [rows, cols]). Throws on rows == 0, cols == 0,
// non-finite input or (cosine) a zero-norm row: such a distance would be NaN and poison the
// clustering.
CondensedMatrix pdist(const float* data, int64_t rows, int64_t cols, DistanceMetric metric);
CondensedMatrix pdist(const double* data, int64_t rows, int64_t cols, DistanceMetric metric);

// Same distances as a full row-major rows x rows matrix.
std::vector<double> squareDistances(const float* data, int64_t rows, int64_t cols, DistanceMetric metric);
std::vector<double> squareDistances(const double* data, int64_t rows, int64_t cols, DistanceMetric metric);

// Condenses a row-major n x n distance matrix (e.g. read from a reference file). Like scipy's
// squareform it keeps the upper triangle; it throws when the matrix is not square-sized, has a
// non-finite or negative entry, a non-zero diagonal, or is not symmetric within a relative
// tolerance (1e-6 of the largest entry), since any of those means the input is not a distance.
CondensedMatrix condensedFromSquare(const double* square, int64_t n);
// The checks of condensedFromSquare alone, with the same messages.
void checkSquareDistances(const double* square, int64_t n);
// The same checks, and the upper triangle written to `out` mirrored into the lower one (n rows of
// n values, `ld` apart), as condensing and expanding again would give: in the same pass over the
// matrix (the linkage's working copy).
void copyCheckedSquareDistances(const double* square, int64_t n, double* out, size_t ld);

}  // namespace moe
