#pragma once
// Agglomerative (hierarchical) clustering reproducing scipy.cluster.hierarchy.linkage exactly:
// same merge order, heights, sizes and cluster numbering, so that trees computed here can be
// compared one-to-one with the HC-SMoE reference (which used scipy).
#include <cstdint>
#include <string>
#include <vector>

#include "core/cluster/distance.h"

namespace moe {

enum class LinkageMethod {
  Single,    // min distance between members
  Complete,  // max distance between members
  Average,   // UPGMA: mean distance between members
  Ward,      // Ward's minimum variance; the input must be Euclidean distances
};

const char* linkageMethodName(LinkageMethod method);  // "single", "complete", "average", "ward"
// Inverse of linkageMethodName; throws moe::Error(InvalidArgument) on an unknown name.
LinkageMethod parseLinkageMethod(const std::string& name);

// One row of a scipy linkage matrix: clusters a and b merged at `height` into a cluster of
// `size` observations. Observations are clusters 0..n-1; merge i creates cluster n + i.
// linkage() always gives a < b; a is the left child in dendrogram order.
struct Merge {
  int64_t a = 0;
  int64_t b = 0;
  double height = 0;
  int64_t size = 0;
};

struct Linkage {
  int64_t n = 0;               // number of observations (leaves)
  std::vector<Merge> merges;   // n - 1 rows, in scipy order (non-decreasing height)

  // Row-major [(n-1), 4] doubles, exactly scipy's Z.
  std::vector<double> toMatrix() const;
  // Builds from a scipy Z matrix (row-major, rows x 4), validating it like scipy's
  // is_valid_linkage: integral cluster ids that exist before they are used and are used once,
  // consistent sizes, finite non-negative heights. The column order a/b is kept as given.
  static Linkage fromMatrix(const double* z, int64_t rows);
};

// Clusters n = distances.size() observations. Throws moe::Error(InvalidArgument) on non-finite
// or negative distances. n == 1 gives an empty merge list.
// Algorithms as in scipy: Prim's minimum spanning tree for single linkage, the nearest-neighbour
// chain with Lance-Williams updates for the others; both then stably sort the merges by height
// and renumber the clusters with a union-find.
Linkage linkage(const CondensedMatrix& distances, LinkageMethod method);
// The same merges as linkage(condensedFromSquare(square, n), method), with its checks and
// messages, without the condensed copy (the nearest-neighbour chain works on a square matrix).
Linkage linkageFromSquare(const double* square, int64_t n, LinkageMethod method);

}  // namespace moe
