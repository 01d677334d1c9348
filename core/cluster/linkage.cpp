#include "core/cluster/linkage.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "core/error.h"

namespace moe {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorKind::InvalidArgument, message);
}

constexpr double kInf = std::numeric_limits<double>::infinity();

// Lance-Williams update: distance from cluster i to the union of x and y. The expressions keep
// scipy's operand order (_hierarchy_distance_update.pxi) so rounding, and therefore near-tie
// decisions, come out identical.
double updatedDistance(LinkageMethod method, double dxi, double dyi, double dxy, int64_t nx, int64_t ny,
                       int64_t ni) {
  switch (method) {
    case LinkageMethod::Single: return std::min(dxi, dyi);
    case LinkageMethod::Complete: return std::max(dxi, dyi);
    case LinkageMethod::Average:
      return (static_cast<double>(nx) * dxi + static_cast<double>(ny) * dyi) / static_cast<double>(nx + ny);
    case LinkageMethod::Ward: {
      const double t = 1.0 / static_cast<double>(nx + ny + ni);
      return std::sqrt(static_cast<double>(ni + nx) * t * dxi * dxi + static_cast<double>(ni + ny) * t * dyi * dyi -
                       static_cast<double>(ni) * t * dxy * dxy);
    }
  }
  return 0;
}

// Merges found by the algorithms below name clusters by the index of one of their observations,
// not by scipy's cluster id. Sorting them stably by height and replaying them through a
// union-find gives scipy's numbering (n + merge index) and the sizes: scipy's `label`.
Linkage sortAndLabel(int64_t n, std::vector<Merge> raw) {
  std::stable_sort(raw.begin(), raw.end(), [](const Merge& l, const Merge& r) { return l.height < r.height; });

  std::vector<int64_t> parent(static_cast<size_t>(2 * n - 1));
  std::iota(parent.begin(), parent.end(), 0);
  std::vector<int64_t> size(static_cast<size_t>(2 * n - 1), 1);
  auto find = [&](int64_t x) {
    int64_t root = x;
    while (parent[root] != root) root = parent[root];
    while (parent[x] != root) {  // path compression
      const int64_t next = parent[x];
      parent[x] = root;
      x = next;
    }
    return root;
  };

  Linkage out;
  out.n = n;
  out.merges.reserve(raw.size());
  int64_t nextLabel = n;
  for (const Merge& m : raw) {
    const int64_t ra = find(m.a);
    const int64_t rb = find(m.b);
    Merge labelled;
    labelled.a = std::min(ra, rb);
    labelled.b = std::max(ra, rb);
    labelled.height = m.height;
    labelled.size = size[ra] + size[rb];
    parent[ra] = nextLabel;
    parent[rb] = nextLabel;
    size[nextLabel] = labelled.size;
    ++nextLabel;
    out.merges.push_back(labelled);
  }
  return out;
}

// Prim's algorithm on the complete graph, as scipy's mst_single_linkage. Note that scipy records
// the pair (previously added vertex, newly added vertex), not the MST edge itself; after the
// height sort the union-find joins the same components either way, and we keep scipy's pairs.
std::vector<Merge> mstSingle(const CondensedMatrix& dist) {
  const int64_t n = dist.size();
  const std::vector<double>& d = dist.values();
  std::vector<char> merged(static_cast<size_t>(n), 0);
  std::vector<double> best(static_cast<size_t>(n), kInf);  // distance to the tree so far
  std::vector<Merge> raw;
  raw.reserve(static_cast<size_t>(n - 1));
  int64_t x = 0;
  int64_t y = 0;
  for (int64_t k = 0; k < n - 1; ++k) {
    double currentMin = kInf;
    merged[x] = 1;
    for (int64_t i = 0; i < n; ++i) {
      if (merged[i]) continue;
      const double dxi = d[static_cast<size_t>(condensedIndex(n, x, i))];
      if (best[i] > dxi) best[i] = dxi;
      if (best[i] < currentMin) {
        y = i;
        currentMin = best[i];
      }
    }
    raw.push_back(Merge{x, y, currentMin, 0});
    x = y;
  }
  return raw;
}

// Nearest-neighbour chain (scipy's nn_chain): follow nearest neighbours until two clusters are
// each other's nearest, merge them into the slot of the larger index, update with Lance-Williams.
// Valid for reducible linkages: complete, average, ward (and single, though scipy uses the MST).
// `d` is the working copy, a full symmetric n x n matrix: every nearest-neighbour scan then reads
// one contiguous row. On the condensed layout half of each scan was a column walk, one cache line
// per entry, which was most of a 512-leaf linkage. An update writes the row and the column of the
// merged slot with the same value, so both halves stay identical. The diagonal is never used (a
// scan skips x itself).
std::vector<Merge> nnChain(std::vector<double>& d, int64_t n, LinkageMethod method) {
  const size_t un = static_cast<size_t>(n);
  std::vector<int64_t> size(un, 1);  // 0 = slot no longer active
  std::vector<int64_t> chain(un);
  int64_t chainLength = 0;
  std::vector<Merge> raw;
  raw.reserve(un - 1);
  // The active slots in increasing order: scipy scans every slot and skips the inactive ones; the
  // scans here visit the same slots in the same order, so ties resolve alike.
  std::vector<int64_t> active(un);
  std::iota(active.begin(), active.end(), 0);

  for (int64_t k = 0; k < n - 1; ++k) {
    if (chainLength == 0) {
      chain[0] = active.front();
      chainLength = 1;
    }

    int64_t x = 0;
    int64_t y = 0;
    double currentMin = kInf;
    while (true) {
      x = chain[chainLength - 1];
      const double* xs = d.data() + static_cast<size_t>(x) * un;
      // The previous chain element wins ties, which guarantees the chain cannot cycle.
      if (chainLength > 1) {
        y = chain[chainLength - 2];
        currentMin = xs[y];
      } else {
        currentMin = kInf;
      }
      // Scanned in locals: kept in currentMin and y, the running minimum went through memory on
      // every step.
      double best = currentMin;
      int64_t nearest = y;
      for (const int64_t i : active) {
        const double dxi = xs[i];
        if (dxi < best && i != x) {
          best = dxi;
          nearest = i;
        }
      }
      currentMin = best;
      y = nearest;
      if (chainLength > 1 && y == chain[chainLength - 2]) break;
      chain[chainLength++] = y;
    }
    chainLength -= 2;

    if (x > y) std::swap(x, y);
    const int64_t nx = size[static_cast<size_t>(x)];
    const int64_t ny = size[static_cast<size_t>(y)];
    raw.push_back(Merge{x, y, currentMin, nx + ny});
    size[static_cast<size_t>(x)] = 0;
    size[static_cast<size_t>(y)] = nx + ny;
    active.erase(std::lower_bound(active.begin(), active.end(), x));
    const double* xs = d.data() + static_cast<size_t>(x) * un;
    double* ys = d.data() + static_cast<size_t>(y) * un;
    for (const int64_t i : active) {
      if (i == y) continue;
      const double v = updatedDistance(method, xs[i], ys[i], currentMin, nx, ny, size[static_cast<size_t>(i)]);
      ys[i] = v;
      d[static_cast<size_t>(i) * un + static_cast<size_t>(y)] = v;
    }
  }
  return raw;
}

}  // namespace

const char* linkageMethodName(LinkageMethod method) {
  switch (method) {
    case LinkageMethod::Single: return "single";
    case LinkageMethod::Complete: return "complete";
    case LinkageMethod::Average: return "average";
    case LinkageMethod::Ward: return "ward";
  }
  return "unknown";
}

LinkageMethod parseLinkageMethod(const std::string& name) {
  for (LinkageMethod m : {LinkageMethod::Single, LinkageMethod::Complete, LinkageMethod::Average, LinkageMethod::Ward})
    if (name == linkageMethodName(m)) return m;
  invalid("unknown linkage method '" + name + "' (expected single, complete, average or ward)");
}

std::vector<double> Linkage::toMatrix() const {
  std::vector<double> z;
  z.reserve(merges.size() * 4);
  for (const Merge& m : merges) {
    z.push_back(static_cast<double>(m.a));
    z.push_back(static_cast<double>(m.b));
    z.push_back(m.height);
    z.push_back(static_cast<double>(m.size));
  }
  return z;
}

Linkage Linkage::fromMatrix(const double* z, int64_t rows) {
  if (rows < 0) invalid("linkage matrix: negative row count");
  if (rows > 0 && z == nullptr) invalid("linkage matrix: null data pointer");
  Linkage out;
  out.n = rows + 1;
  const int64_t n = out.n;
  std::vector<int64_t> size(static_cast<size_t>(2 * n - 1), 1);
  std::vector<char> used(static_cast<size_t>(2 * n - 1), 0);
  auto clusterId = [&](int64_t row, int col) {
    const double v = z[row * 4 + col];
    std::ostringstream s;
    s << "linkage matrix: row " << row << ", column " << col << ": ";
    if (!std::isfinite(v) || v != std::floor(v)) {
      s << v << " is not an integral cluster id";
      invalid(s.str());
    }
    const auto id = static_cast<int64_t>(v);
    if (id < 0 || id >= n + row) {
      s << "cluster " << id << " does not exist yet (valid: 0.." << n + row - 1 << ")";
      invalid(s.str());
    }
    if (used[id]) {
      s << "cluster " << id << " is merged twice";
      invalid(s.str());
    }
    used[id] = 1;
    return id;
  };
  for (int64_t r = 0; r < rows; ++r) {
    Merge m;
    m.a = clusterId(r, 0);
    m.b = clusterId(r, 1);
    m.height = z[r * 4 + 2];
    if (!std::isfinite(m.height) || m.height < 0) {
      std::ostringstream s;
      s << "linkage matrix: row " << r << ": height " << m.height << " is not finite and non-negative";
      invalid(s.str());
    }
    m.size = size[m.a] + size[m.b];
    if (z[r * 4 + 3] != static_cast<double>(m.size)) {
      std::ostringstream s;
      s << "linkage matrix: row " << r << ": size " << z[r * 4 + 3] << " but the merged clusters hold " << m.size;
      invalid(s.str());
    }
    size[n + r] = m.size;
    out.merges.push_back(m);
  }
  return out;
}

Linkage linkage(const CondensedMatrix& distances, LinkageMethod method) {
  const int64_t n = distances.size();
  if (n < 1) invalid("linkage: no observations");
  const std::vector<double>& d = distances.values();
  for (size_t i = 0; i < d.size(); ++i) {
    if (!std::isfinite(d[i]) || d[i] < 0) {
      std::ostringstream s;
      s << "linkage (" << linkageMethodName(method) << "): distance #" << i << " = " << d[i]
        << " is not finite and non-negative";
      invalid(s.str());
    }
  }
  if (n == 1) {
    Linkage out;
    out.n = 1;
    return out;
  }
  if (method == LinkageMethod::Single) return sortAndLabel(n, mstSingle(distances));
  std::vector<double> square = distances.toSquare();
  return sortAndLabel(n, nnChain(square, n, method));
}

Linkage linkageFromSquare(const double* square, int64_t n, LinkageMethod method) {
  if (method == LinkageMethod::Single || n < 2) return linkage(condensedFromSquare(square, n), method);
  checkSquareDistances(square, n);
  // The working copy is a per-thread buffer, kept for the thread's life (2 MB at 512 experts): a
  // clustering switch links one block after another, and a fresh n x n allocation for each was
  // page-faulted in every time (at 512 experts, as long as the linkage itself).
  const size_t un = static_cast<size_t>(n);
  thread_local std::vector<double> d;
  d.assign(square, square + un * un);
  // The upper triangle mirrored into the lower one, as condensing and expanding again would give
  // (the check allows a tiny asymmetry, and scipy reads only the upper triangle). In tiles, so
  // that the transposed writes stay in cache.
  constexpr size_t kTile = 32;
  for (size_t bi = 0; bi < un; bi += kTile)
    for (size_t bj = bi; bj < un; bj += kTile)
      for (size_t i = bi; i < std::min(un, bi + kTile); ++i)
        for (size_t j = std::max(bj, i + 1); j < std::min(un, bj + kTile); ++j) d[j * un + i] = d[i * un + j];
  return sortAndLabel(n, nnChain(d, n, method));
}

}  // namespace moe
