#include "core/analysis/layer_stats.h"

#include <cmath>

#include "core/cluster/distance.h"
#include "core/error.h"

namespace moe {

const char* representationName(Representation r) {
  switch (r) {
    case Representation::ExpertOutput: return "expert_output";
    case Representation::ExpertOutputRouted: return "expert_output_routed";
    case Representation::RouterLogits: return "router_logits";
    case Representation::Weights: return "weights";
  }
  return "?";
}

std::vector<Representation> allRepresentations() {
  return {Representation::ExpertOutput, Representation::ExpertOutputRouted, Representation::RouterLogits,
          Representation::Weights};
}

Representation parseRepresentation(const std::string& name) {
  for (Representation r : allRepresentations())
    if (name == representationName(r)) return r;
  if (name == "expert-output") return Representation::ExpertOutput;
  if (name == "expert-output-routed") return Representation::ExpertOutputRouted;
  if (name == "router-logits") return Representation::RouterLogits;
  throw Error(ErrorKind::InvalidArgument, "unknown representation '" + name +
                                              "' (expected expert_output, expert_output_routed, router_logits or weights)");
}

namespace {

// Distances between the rows of X from its Gram matrix G = X X^T:
// |xi - xj|^2 = Gii + Gjj - 2 Gij, cos = Gij / sqrt(Gii Gjj).
// Each pair is computed once from the symmetrised entry: a Gram matrix from a BLAS product need not
// be bitwise symmetric, and the clustering refuses asymmetric distances.
Matrix distancesFromGram(const Matrix& g, bool cosine) {
  const int64_t n = g.rows;
  Matrix d(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      const double gij = 0.5 * (g(i, j) + g(j, i));
      double v;
      if (cosine) {
        const double denom = std::sqrt(g(i, i) * g(j, j));
        v = denom > 0 ? 1.0 - gij / denom : 1.0;
      } else {
        v = std::sqrt(std::max(0.0, g(i, i) + g(j, j) - 2 * gij));
      }
      d(i, j) = d(j, i) = v;
    }
  return d;
}

// Distances index the matrices by expert: a matrix of another shape (a hand-made LayerStats, an
// unchecked file) would be read out of bounds, so it is refused here whatever its origin.
void checkDims(const LayerStats& s, const Matrix& m, int64_t cols, const char* what) {
  const bool ok = m.rows == s.numExperts && (cols < 0 || m.cols == cols) && m.cols >= 0 &&
                  m.data.size() == static_cast<size_t>(m.rows * m.cols);
  if (!ok)
    throw Error(ErrorKind::Shape, "layer " + std::to_string(s.layer) + ": " + what + " is [" + std::to_string(m.rows) +
                                      ", " + std::to_string(m.cols) + "] with " + std::to_string(m.data.size()) +
                                      " values, expected " + std::to_string(s.numExperts) + " rows" +
                                      (cols < 0 ? std::string() : " and " + std::to_string(cols) + " columns"));
}

}  // namespace

Matrix LayerStats::distances(Representation r, const std::string& metric) const {
  const DistanceMetric m = parseDistanceMetric(metric);
  const bool cosine = m == DistanceMetric::Cosine;
  auto fromRows = [&](const Matrix& x, const char* what) {
    if (x.empty())
      throw Error(ErrorKind::InvalidArgument, std::string("layer ") + std::to_string(layer) + " has no " + what +
                                                  " statistics (analysed with a cheaper statistic setting?)");
    checkDims(*this, x, -1, what);
    if (cosine) {
      // Rows that are exactly zero (an expert never routed) have no direction: treat them as
      // maximally dissimilar instead of failing.
      Matrix g(x.rows, x.rows);
      for (int64_t i = 0; i < x.rows; ++i)
        for (int64_t j = 0; j < x.rows; ++j) {
          double s = 0;
          for (int64_t c = 0; c < x.cols; ++c) s += x(i, c) * x(j, c);
          g(i, j) = s;
        }
      return distancesFromGram(g, true);
    }
    Matrix d(x.rows, x.rows);
    d.data = squareDistances(x.data.data(), x.rows, x.cols, m);
    return d;
  };
  switch (r) {
    case Representation::ExpertOutput: return fromRows(expertOutputMean, "all-token expert output");
    case Representation::ExpertOutputRouted: return fromRows(expertOutputMeanRouted, "routed expert output");
    case Representation::RouterLogits:
      if (routerLogitGram.empty()) throw Error(ErrorKind::InvalidArgument, "no router-logit statistics");
      checkDims(*this, routerLogitGram, numExperts, "the router-logit Gram matrix");
      return distancesFromGram(routerLogitGram, cosine);
    case Representation::Weights:
      if (weightGram.empty()) throw Error(ErrorKind::InvalidArgument, "no weight statistics");
      checkDims(*this, weightGram, numExperts, "the weight Gram matrix");
      return distancesFromGram(weightGram, cosine);
  }
  return {};
}

}  // namespace moe
