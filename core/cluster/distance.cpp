#include "core/cluster/distance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/error.h"

namespace moe {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorKind::InvalidArgument, message);
}

template <typename T>
void checkInput(const T* data, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) {
    std::ostringstream s;
    s << "distance: empty input matrix [" << rows << ", " << cols << "]";
    invalid(s.str());
  }
  if (data == nullptr) invalid("distance: null data pointer");
  for (int64_t i = 0; i < rows * cols; ++i) {
    if (!std::isfinite(static_cast<double>(data[i]))) {
      std::ostringstream s;
      s << "distance: non-finite value at row " << i / cols << ", column " << i % cols;
      invalid(s.str());
    }
  }
}

// Writes the distance of every pair (i < j) through emit(i, j, distance), in pdist order.
template <typename T, typename Emit>
void forEachPair(const T* data, int64_t rows, int64_t cols, DistanceMetric metric, Emit emit) {
  checkInput(data, rows, cols);
  // Rows are widened to double once so that every pair is accumulated in double, as scipy does
  // after converting its input to float64.
  std::vector<double> x(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i) x[i] = static_cast<double>(data[i]);

  std::vector<double> norms;
  if (metric == DistanceMetric::Cosine) {
    norms.resize(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) {
      double sq = 0;
      for (int64_t k = 0; k < cols; ++k) sq += x[i * cols + k] * x[i * cols + k];
      norms[i] = std::sqrt(sq);
      if (norms[i] == 0) {
        std::ostringstream s;
        s << "distance: cosine distance undefined for row " << i << " (all zeros)";
        invalid(s.str());
      }
    }
  }

  for (int64_t i = 0; i < rows; ++i) {
    const double* u = &x[i * cols];
    for (int64_t j = i + 1; j < rows; ++j) {
      const double* v = &x[j * cols];
      double d;
      if (metric == DistanceMetric::Euclidean) {
        double sq = 0;
        for (int64_t k = 0; k < cols; ++k) {
          const double diff = u[k] - v[k];
          sq += diff * diff;
        }
        d = std::sqrt(sq);
      } else {
        double dot = 0;
        for (int64_t k = 0; k < cols; ++k) dot += u[k] * v[k];
        double cosine = dot / (norms[i] * norms[j]);
        // Rounding can push |cos| slightly past 1; clip so the distance stays in [0, 2].
        if (std::fabs(cosine) > 1.0) cosine = std::copysign(1.0, cosine);
        d = 1.0 - cosine;
      }
      if (!std::isfinite(d)) {  // overflow of huge inputs
        std::ostringstream s;
        s << "distance: non-finite distance between rows " << i << " and " << j;
        invalid(s.str());
      }
      emit(i, j, d);
    }
  }
}

template <typename T>
CondensedMatrix pdistImpl(const T* data, int64_t rows, int64_t cols, DistanceMetric metric) {
  std::vector<double> values;
  if (rows > 0) values.reserve(static_cast<size_t>(rows * (rows - 1) / 2));
  forEachPair(data, rows, cols, metric, [&](int64_t, int64_t, double d) { values.push_back(d); });
  return CondensedMatrix(rows, std::move(values));
}

template <typename T>
std::vector<double> squareImpl(const T* data, int64_t rows, int64_t cols, DistanceMetric metric) {
  std::vector<double> out;
  if (rows > 0) out.assign(static_cast<size_t>(rows * rows), 0.0);
  forEachPair(data, rows, cols, metric, [&](int64_t i, int64_t j, double d) {
    out[i * rows + j] = d;
    out[j * rows + i] = d;
  });
  return out;
}

}  // namespace

const char* distanceMetricName(DistanceMetric metric) {
  switch (metric) {
    case DistanceMetric::Euclidean: return "euclidean";
    case DistanceMetric::Cosine: return "cosine";
  }
  return "unknown";
}

DistanceMetric parseDistanceMetric(const std::string& name) {
  if (name == "euclidean") return DistanceMetric::Euclidean;
  if (name == "cosine") return DistanceMetric::Cosine;
  invalid("unknown distance metric '" + name + "' (expected euclidean or cosine)");
}

CondensedMatrix::CondensedMatrix(int64_t n, std::vector<double> values) : n_(n), values_(std::move(values)) {
  if (n < 1) invalid("condensed distance matrix: need at least one observation, got " + std::to_string(n));
  const int64_t expected = n * (n - 1) / 2;
  if (static_cast<int64_t>(values_.size()) != expected) {
    std::ostringstream s;
    s << "condensed distance matrix: " << values_.size() << " values for " << n << " observations (expected "
      << expected << ")";
    invalid(s.str());
  }
}

double CondensedMatrix::operator()(int64_t i, int64_t j) const {
  if (i < 0 || j < 0 || i >= n_ || j >= n_) {
    std::ostringstream s;
    s << "condensed distance matrix: index (" << i << ", " << j << ") out of range for " << n_ << " observations";
    invalid(s.str());
  }
  if (i == j) return 0.0;
  return values_[static_cast<size_t>(condensedIndex(n_, i, j))];
}

std::vector<double> CondensedMatrix::toSquare() const {
  std::vector<double> out(static_cast<size_t>(n_ * n_), 0.0);
  for (int64_t i = 0; i < n_; ++i)
    for (int64_t j = i + 1; j < n_; ++j) {
      const double d = values_[static_cast<size_t>(condensedIndex(n_, i, j))];
      out[i * n_ + j] = d;
      out[j * n_ + i] = d;
    }
  return out;
}

CondensedMatrix pdist(const float* data, int64_t rows, int64_t cols, DistanceMetric metric) {
  return pdistImpl(data, rows, cols, metric);
}
CondensedMatrix pdist(const double* data, int64_t rows, int64_t cols, DistanceMetric metric) {
  return pdistImpl(data, rows, cols, metric);
}
std::vector<double> squareDistances(const float* data, int64_t rows, int64_t cols, DistanceMetric metric) {
  return squareImpl(data, rows, cols, metric);
}
std::vector<double> squareDistances(const double* data, int64_t rows, int64_t cols, DistanceMetric metric) {
  return squareImpl(data, rows, cols, metric);
}

namespace {

// The square distance matrix's rules, accumulated over rows of entries: any entry not finite or
// negative, the largest entry, the largest asymmetry and the largest diagonal entry. In vector
// registers where the CPU has them: as scalar running maxima each entry waited for the previous
// one's compare, which made the checking pass as long as the linkage that follows it.
class DistanceChecks {
 public:
  void entries(const double* v, int64_t count) {
    int64_t i = 0;
#if defined(__SSE2__)
    const __m128d zero = _mm_setzero_pd();
    const __m128d max = _mm_set1_pd(std::numeric_limits<double>::max());
    for (; i + 2 <= count; i += 2) {
      const __m128d x = _mm_loadu_pd(v + i);
      // Not (x >= 0) or not (x <= max): negative, infinite or NaN.
      bad_ = _mm_or_pd(bad_, _mm_or_pd(_mm_cmpnge_pd(x, zero), _mm_cmpnle_pd(x, max)));
      largest_ = _mm_max_pd(x, largest_);
    }
#endif
    for (; i < count; ++i) entry(v[i]);
  }
  void asymmetry(const double* a, const double* b, int64_t count) {  // rows of finite entries
    int64_t i = 0;
#if defined(__SSE2__)
    const __m128d sign = _mm_set1_pd(-0.0);
    for (; i + 2 <= count; i += 2)
      asymmetry_ = _mm_max_pd(_mm_andnot_pd(sign, _mm_sub_pd(_mm_loadu_pd(a + i), _mm_loadu_pd(b + i))), asymmetry_);
#endif
    for (; i < count; ++i) asymmetryScalar_ = std::max(asymmetryScalar_, std::fabs(a[i] - b[i]));
  }
  void entry(double v) {
    badScalar_ |= !(v >= 0 && v <= std::numeric_limits<double>::max());
    largestScalar_ = std::max(largestScalar_, v);
  }
  void diagonal(double v) { diagonal_ = std::max(diagonal_, v); }

  bool pass() const {
    double largest = largestScalar_;
    double asymmetry = asymmetryScalar_;
    bool bad = badScalar_;
#if defined(__SSE2__)
    largest = std::max({largest, _mm_cvtsd_f64(largest_), _mm_cvtsd_f64(_mm_unpackhi_pd(largest_, largest_))});
    asymmetry =
        std::max({asymmetry, _mm_cvtsd_f64(asymmetry_), _mm_cvtsd_f64(_mm_unpackhi_pd(asymmetry_, asymmetry_))});
    bad |= _mm_movemask_pd(bad_) != 0;
#endif
    const double tolerance = 1e-6 * largest;
    return !bad && !(diagonal_ > tolerance) && !(asymmetry > tolerance);
  }

 private:
#if defined(__SSE2__)
  __m128d bad_ = _mm_setzero_pd();
  __m128d largest_ = _mm_setzero_pd();
  __m128d asymmetry_ = _mm_setzero_pd();
#endif
  bool badScalar_ = false;
  double largestScalar_ = 0;
  double asymmetryScalar_ = 0;
  double diagonal_ = 0;
};

// One pass over the matrix in 32 x 32 tiles, reading and writing rows only (the transposes go
// through a small buffer): whether every rule holds. Where `out` is given, the upper triangle is
// written to it mirrored into the lower one (rows ld apart), as condensing and expanding again
// would give; scipy reads only the upper triangle.
bool squareChecksPass(const double* square, int64_t n, double* out, size_t ld) {
  constexpr int64_t kTile = 32;
  DistanceChecks checks;
  double upperT[kTile * kTile];
  for (int64_t bi = 0; bi < n; bi += kTile) {
    const int64_t rows = std::min(kTile, n - bi);
    // The diagonal tile, entry by entry.
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < rows; ++c) {
        const double v = square[(bi + r) * n + bi + c];
        checks.entry(v);
        if (c == r) checks.diagonal(v);
        if (c < r) continue;
        const double lower = square[(bi + c) * n + bi + r];
        checks.asymmetry(&v, &lower, 1);
        if (!out) continue;
        out[static_cast<size_t>(bi + r) * ld + static_cast<size_t>(bi + c)] = v;
        out[static_cast<size_t>(bi + c) * ld + static_cast<size_t>(bi + r)] = v;
      }
    for (int64_t bj = bi + kTile; bj < n; bj += kTile) {
      const int64_t cols = std::min(kTile, n - bj);
      for (int64_t r = 0; r < rows; ++r) {  // the upper tile: transposed (and copied)
        const double* u = square + (bi + r) * n + bj;
        checks.entries(u, cols);
        if (out) std::copy(u, u + cols, out + static_cast<size_t>(bi + r) * ld + static_cast<size_t>(bj));
        for (int64_t c = 0; c < cols; ++c) upperT[c * kTile + r] = u[c];
      }
      for (int64_t c = 0; c < cols; ++c) {  // the lower tile: compared with the transpose (replaced by it)
        const double* l = square + (bj + c) * n + bi;
        const double* t = upperT + c * kTile;
        checks.entries(l, rows);
        checks.asymmetry(l, t, rows);
        if (out) std::copy(t, t + rows, out + static_cast<size_t>(bj + c) * ld + static_cast<size_t>(bi));
      }
    }
  }
  return checks.pass();
}

// Called once the pass has failed: a row-order scan that names the first offending entry, a
// non-finite or negative one before any diagonal or symmetry defect.
[[noreturn]] void rejectSquare(const double* square, int64_t n) {
  const size_t count = static_cast<size_t>(n) * static_cast<size_t>(n);
  double largest = 0;
  for (size_t i = 0; i < count; ++i) {
    const double d = square[i];
    if (!std::isfinite(d) || d < 0) {
      std::ostringstream s;
      s << "distance matrix: entry (" << i / static_cast<size_t>(n) << ", " << i % static_cast<size_t>(n)
        << ") = " << d << " is not a finite non-negative distance";
      invalid(s.str());
    }
    largest = std::max(largest, d);
  }
  const double tolerance = 1e-6 * largest;
  for (int64_t i = 0; i < n; ++i) {
    if (square[i * n + i] > tolerance) {
      std::ostringstream s;
      s << "distance matrix: diagonal entry (" << i << ", " << i << ") = " << square[i * n + i] << " is not zero";
      invalid(s.str());
    }
    for (int64_t j = i + 1; j < n; ++j) {
      const double upper = square[i * n + j];
      const double lower = square[j * n + i];
      if (std::fabs(upper - lower) > tolerance) {
        std::ostringstream s;
        s << "distance matrix: not symmetric at (" << i << ", " << j << "): " << upper << " vs " << lower;
        invalid(s.str());
      }
    }
  }
  invalid("distance matrix: rejected by the tile checks, but no entry fails the row-order scan");  // unreachable
}

void checkSizeAndPointer(const double* square, int64_t n) {
  if (n < 1) invalid("distance matrix: empty (n = " + std::to_string(n) + ")");
  if (square == nullptr) invalid("distance matrix: null data pointer");
}

}  // namespace

void checkSquareDistances(const double* square, int64_t n) {
  checkSizeAndPointer(square, n);
  if (!squareChecksPass(square, n, nullptr, 0)) rejectSquare(square, n);
}

void copyCheckedSquareDistances(const double* square, int64_t n, double* out, size_t ld) {
  checkSizeAndPointer(square, n);
  if (!squareChecksPass(square, n, out, ld)) rejectSquare(square, n);
}

CondensedMatrix condensedFromSquare(const double* square, int64_t n) {
  checkSquareDistances(square, n);
  std::vector<double> values(static_cast<size_t>(n * (n - 1) / 2));
  double* out = values.data();
  for (int64_t i = 0; i < n; ++i) out = std::copy(square + i * n + i + 1, square + (i + 1) * n, out);
  return CondensedMatrix(n, std::move(values));
}

}  // namespace moe
