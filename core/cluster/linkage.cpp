#include "core/cluster/linkage.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
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

// The working matrices' row stride, in doubles: whole cache lines per row, and an odd number of
// them, so that a column (an update's writes, a tile's rows) falls in every cache set. With
// n = 512 the rows were exactly 4 KB apart and every entry of a column mapped to one L1 set.
size_t rowStride(int64_t n) {
  size_t ld = (static_cast<size_t>(n) + 7) / 8 * 8;
  if ((ld / 8) % 2 == 0) ld += 8;
  return ld;
}

// ys[i] = the Lance-Williams update of slot i's distance to the union of x and y, for every slot
// of the row, active or not: an inactive slot's entry is never read again unmasked (scans add its
// +inf penalty), nor is y's own. Written for the whole row so that it runs in vector registers;
// each lane computes updatedDistance's expression in its operand order, so the values are the
// same bits.
void updateRow(LinkageMethod method, const double* xs, double* ys, const double* sizes, size_t m, double dxy,
               int64_t nx, int64_t ny) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128d vnx = _mm_set1_pd(static_cast<double>(nx));
  const __m128d vny = _mm_set1_pd(static_cast<double>(ny));
  const __m128d vnxy = _mm_set1_pd(static_cast<double>(nx + ny));
  const __m128d vdxy = _mm_set1_pd(dxy);
  const __m128d one = _mm_set1_pd(1.0);
  for (; i + 2 <= m; i += 2) {
    const __m128d dxi = _mm_loadu_pd(xs + i);
    const __m128d dyi = _mm_loadu_pd(ys + i);
    __m128d v;
    switch (method) {
      case LinkageMethod::Complete: v = _mm_max_pd(dyi, dxi); break;  // std::max(dxi, dyi)
      case LinkageMethod::Average:
        v = _mm_div_pd(_mm_add_pd(_mm_mul_pd(vnx, dxi), _mm_mul_pd(vny, dyi)), vnxy);
        break;
      case LinkageMethod::Ward: {
        const __m128d ni = _mm_loadu_pd(sizes + i);
        const __m128d t = _mm_div_pd(one, _mm_add_pd(vnxy, ni));
        const __m128d a = _mm_mul_pd(_mm_mul_pd(_mm_mul_pd(_mm_add_pd(ni, vnx), t), dxi), dxi);
        const __m128d b = _mm_mul_pd(_mm_mul_pd(_mm_mul_pd(_mm_add_pd(ni, vny), t), dyi), dyi);
        const __m128d c = _mm_mul_pd(_mm_mul_pd(_mm_mul_pd(ni, t), vdxy), vdxy);
        v = _mm_sqrt_pd(_mm_sub_pd(_mm_add_pd(a, b), c));
        break;
      }
      default: v = _mm_min_pd(dyi, dxi); break;  // single: std::min(dxi, dyi)
    }
    _mm_storeu_pd(ys + i, v);
  }
#endif
  for (; i < m; ++i)
    ys[i] = updatedDistance(method, xs[i], ys[i], dxy, nx, ny, static_cast<int64_t>(sizes[i]));
}

// Index of the first smallest of row[i] + penalty[i], i in [0, n), if that smallest is below
// `bound`; -1 otherwise. The penalty is 0 for an active slot and +inf for an inactive one and for
// the scanning row's own slot, so the scan reads two contiguous arrays with no branch per entry
// and picks the slot that scipy's loop over the active slots (which keeps the first strictly
// smaller distance) picks. A NaN (from a Ward update of distances that are not Euclidean) is never
// picked, as in scipy, where `dist < current_min` is false for it.
int64_t firstMinimum(const double* row, const double* penalty, int64_t n, double bound) {
  double m = bound;
  int64_t i = 0;
#if defined(__SSE2__)
  // Four independent minima of two lanes each. MINPD returns its second operand when the compare
  // is unordered, so a NaN entry leaves the running minimum as it was.
  __m128d m0 = _mm_set1_pd(bound), m1 = m0, m2 = m0, m3 = m0;
  for (; i + 8 <= n; i += 8) {
    m0 = _mm_min_pd(_mm_add_pd(_mm_loadu_pd(row + i), _mm_loadu_pd(penalty + i)), m0);
    m1 = _mm_min_pd(_mm_add_pd(_mm_loadu_pd(row + i + 2), _mm_loadu_pd(penalty + i + 2)), m1);
    m2 = _mm_min_pd(_mm_add_pd(_mm_loadu_pd(row + i + 4), _mm_loadu_pd(penalty + i + 4)), m2);
    m3 = _mm_min_pd(_mm_add_pd(_mm_loadu_pd(row + i + 6), _mm_loadu_pd(penalty + i + 6)), m3);
  }
  m0 = _mm_min_pd(_mm_min_pd(m0, m1), _mm_min_pd(m2, m3));
  m = std::min(_mm_cvtsd_f64(m0), _mm_cvtsd_f64(_mm_unpackhi_pd(m0, m0)));
#endif
  for (; i < n; ++i) {
    const double v = row[i] + penalty[i];
    if (v < m) m = v;
  }
  if (!(m < bound)) return -1;
  for (int64_t j = 0;; ++j)
    if (row[j] + penalty[j] == m) return j;
}

// Nearest-neighbour chain (scipy's nn_chain): follow nearest neighbours until two clusters are
// each other's nearest, merge them into the slot of the larger index, update with Lance-Williams.
// Valid for reducible linkages: complete, average, ward (and single, though scipy uses the MST).
// `d` is the working copy, a full symmetric n x n matrix: every nearest-neighbour scan then reads
// one contiguous row, and an update writes the row and the column of the merged slot with the
// same value. The diagonal is never used (a scan masks x itself).
// Each time half the slots are inactive, the matrix is compacted in place to the active ones, in
// their order: the scans and the column writes then stay within a matrix that shrinks into the
// cache (at 512 leaves the 2 MB matrix does not fit in L2, and the column writes of the updates
// were a third of the linkage). Slots keep scipy's order, so ties resolve alike, and merges are
// recorded with the original observation indices.
std::vector<Merge> nnChain(double* d, int64_t n, size_t ld, LinkageMethod method) {
  size_t m = static_cast<size_t>(n);  // the matrix's current side, its rows ld apart
  std::vector<int64_t> original(m);   // slot -> observation index of its cluster's slot
  std::iota(original.begin(), original.end(), 0);
  std::vector<double> sizes(m, 1.0);    // cluster sizes (exact in a double), read by the vector updates
  std::vector<double> penalty(m, 0.0);  // +inf = slot no longer active
  std::vector<int64_t> chain(m);
  int64_t chainLength = 0;
  std::vector<Merge> raw;
  raw.reserve(m - 1);
  std::vector<int64_t> active(m);  // the active slots in increasing order
  std::iota(active.begin(), active.end(), 0);

  for (int64_t k = 0; k < n - 1; ++k) {
    if (active.size() * 2 <= m && m > 64) {
      // Slot active[p] becomes slot p. Row-major and in place: every entry moves to an index no
      // larger than its own, and the entries are moved in increasing order.
      const size_t a = active.size();
      std::vector<int64_t> renamed(m, -1);
      for (size_t p = 0; p < a; ++p) renamed[static_cast<size_t>(active[p])] = static_cast<int64_t>(p);
      const size_t newLd = rowStride(static_cast<int64_t>(a));  // <= ld
      for (size_t p = 0; p < a; ++p) {
        const double* from = d + static_cast<size_t>(active[p]) * ld;
        double* to = d + p * newLd;
        for (size_t q = 0; q < a; ++q) to[q] = from[active[q]];
      }
      for (size_t p = 0; p < a; ++p) {
        original[p] = original[static_cast<size_t>(active[p])];
        sizes[p] = sizes[static_cast<size_t>(active[p])];
      }
      for (int64_t c = 0; c < chainLength; ++c) chain[c] = renamed[static_cast<size_t>(chain[c])];
      m = a;
      ld = newLd;
      original.resize(m);
      sizes.resize(m);
      penalty.assign(m, 0.0);
      std::iota(active.begin(), active.end(), 0);
    }
    if (chainLength == 0) {
      chain[0] = active.front();
      chainLength = 1;
    }

    int64_t x = 0;
    int64_t y = 0;
    double currentMin = kInf;
    while (true) {
      x = chain[chainLength - 1];
      const double* xs = d + static_cast<size_t>(x) * ld;
      // The previous chain element wins ties, which guarantees the chain cannot cycle.
      if (chainLength > 1) {
        y = chain[chainLength - 2];
        currentMin = xs[y];
      } else {
        currentMin = kInf;
      }
      penalty[static_cast<size_t>(x)] = kInf;
      const int64_t nearest = firstMinimum(xs, penalty.data(), static_cast<int64_t>(m), currentMin);
      penalty[static_cast<size_t>(x)] = 0.0;
      if (nearest >= 0) {
        y = nearest;
        currentMin = xs[y];
      }
      if (chainLength > 1 && y == chain[chainLength - 2]) break;
      chain[chainLength++] = y;
    }
    chainLength -= 2;

    if (x > y) std::swap(x, y);
    const auto nx = static_cast<int64_t>(sizes[static_cast<size_t>(x)]);
    const auto ny = static_cast<int64_t>(sizes[static_cast<size_t>(y)]);
    raw.push_back(Merge{original[static_cast<size_t>(x)], original[static_cast<size_t>(y)], currentMin, nx + ny});
    penalty[static_cast<size_t>(x)] = kInf;
    sizes[static_cast<size_t>(x)] = 0;
    sizes[static_cast<size_t>(y)] = static_cast<double>(nx + ny);
    active.erase(std::lower_bound(active.begin(), active.end(), x));
    const double* xs = d + static_cast<size_t>(x) * ld;
    double* ys = d + static_cast<size_t>(y) * ld;
    updateRow(method, xs, ys, sizes.data(), m, currentMin, nx, ny);
    for (const int64_t i : active) d[static_cast<size_t>(i) * ld + static_cast<size_t>(y)] = ys[i];
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
  const size_t ld = rowStride(n);
  std::vector<double> square(static_cast<size_t>(n) * ld, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      const double v = d[static_cast<size_t>(condensedIndex(n, i, j))];
      square[static_cast<size_t>(i) * ld + static_cast<size_t>(j)] = v;
      square[static_cast<size_t>(j) * ld + static_cast<size_t>(i)] = v;
    }
  return sortAndLabel(n, nnChain(square.data(), n, ld, method));
}

Linkage linkageFromSquare(const double* square, int64_t n, LinkageMethod method) {
  if (method == LinkageMethod::Single || n < 2) return linkage(condensedFromSquare(square, n), method);
  // The working copy is a per-thread buffer, kept for the thread's life (2 MB at 512 experts): a
  // clustering switch links one block after another, and a fresh n x n allocation for each was
  // page-faulted in every time (at 512 experts, as long as the linkage itself).
  const size_t ld = rowStride(n);
  thread_local std::vector<double> d;
  if (d.size() < static_cast<size_t>(n) * ld) d.resize(static_cast<size_t>(n) * ld);
  copyCheckedSquareDistances(square, n, d.data(), ld);  // checked while copied
  return sortAndLabel(n, nnChain(d.data(), n, ld, method));
}

}  // namespace moe
