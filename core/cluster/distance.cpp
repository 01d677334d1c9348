#include "core/cluster/distance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

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

void checkSquareDistances(const double* square, int64_t n) {
  if (n < 1) invalid("distance matrix: empty (n = " + std::to_string(n) + ")");
  if (square == nullptr) invalid("distance matrix: null data pointer");
  // Every check runs first without an early exit and without messages, counting failures in a
  // double (which the compiler vectorises; the counts stay exact far beyond n^2); a failure sends
  // it back to a row-order scan that names the first offending entry.
  const size_t count = static_cast<size_t>(n) * static_cast<size_t>(n);
  constexpr double kMax = std::numeric_limits<double>::max();
  double outOfRange = 0;
  for (size_t i = 0; i < count; ++i) outOfRange += square[i] >= 0 && square[i] <= kMax ? 0.0 : 1.0;  // NaN fails
  // The largest entry in independent lanes, which compile to vector maxima.
  constexpr size_t kLanes = 4;
  double lanes[kLanes] = {0, 0, 0, 0};
  size_t at = 0;
  for (; at + kLanes <= count; at += kLanes)
    for (size_t l = 0; l < kLanes; ++l) lanes[l] = square[at + l] > lanes[l] ? square[at + l] : lanes[l];
  double largest = 0;
  for (; at < count; ++at) largest = square[at] > largest ? square[at] : largest;
  for (double l : lanes) largest = l > largest ? l : largest;
  const bool inRange = outOfRange == 0;
  for (size_t i = 0; i < count && !inRange; ++i) {
    const double d = square[i];
    if (!std::isfinite(d) || d < 0) {
      std::ostringstream s;
      s << "distance matrix: entry (" << i / static_cast<size_t>(n) << ", " << i % static_cast<size_t>(n)
        << ") = " << d << " is not a finite non-negative distance";
      invalid(s.str());
    }
  }
  const double tolerance = 1e-6 * largest;
  // Zero diagonal and symmetry: the lower triangle is read in tiles, a few cache lines at a time
  // instead of one page per entry (at 512 experts the column-wise reads were most of a clustering
  // switch's condensing).
  constexpr int64_t kTile = 32;
  bool valid = true;
  for (int64_t i = 0; i < n; ++i) valid &= !(square[i * n + i] > tolerance);
  // Each lower-triangle tile is first transposed into a small buffer, so that the comparison
  // reads two contiguous rows (and vectorises).
  double lowerT[kTile * kTile];
  for (int64_t bi = 0; bi < n && valid; bi += kTile) {
    const int64_t rows = std::min(kTile, n - bi);
    for (int64_t bj = bi; bj < n && valid; bj += kTile) {
      const int64_t cols = std::min(kTile, n - bj);
      for (int64_t c = 0; c < cols; ++c)
        for (int64_t r = 0; r < rows; ++r) lowerT[r * kTile + c] = square[(bj + c) * n + bi + r];
      for (int64_t r = 0; r < rows; ++r) {
        const double* upper = square + (bi + r) * n + bj;
        const double* lower = lowerT + r * kTile;
        double asymmetric = 0;  // the entries are finite here
        for (int64_t c = 0; c < cols; ++c) asymmetric += std::fabs(upper[c] - lower[c]) > tolerance ? 1.0 : 0.0;
        valid &= asymmetric == 0;
      }
    }
  }
  for (int64_t i = 0; i < n && !valid; ++i) {
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
}

CondensedMatrix condensedFromSquare(const double* square, int64_t n) {
  checkSquareDistances(square, n);
  std::vector<double> values(static_cast<size_t>(n * (n - 1) / 2));
  double* out = values.data();
  for (int64_t i = 0; i < n; ++i) out = std::copy(square + i * n + i + 1, square + (i + 1) * n, out);
  return CondensedMatrix(n, std::move(values));
}

}  // namespace moe
