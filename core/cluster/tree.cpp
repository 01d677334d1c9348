#include "core/cluster/tree.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <iomanip>
#include <limits>
#include <locale>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "core/error.h"

namespace moe {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorKind::InvalidArgument, message);
}

// A Linkage can be assembled by hand, so every entry point checks the invariants the code
// below relies on: n - 1 merges whose children exist before they are used and are used once,
// sizes that add up, heights that are numbers.
void checkLinkage(const Linkage& z, const char* where) {
  const int64_t n = z.n;
  if (n < 1) invalid(std::string(where) + ": empty linkage (no observations)");
  if (static_cast<int64_t>(z.merges.size()) != n - 1) {
    std::ostringstream s;
    s << where << ": linkage has " << z.merges.size() << " merges for " << n << " observations (expected " << n - 1
      << ")";
    invalid(s.str());
  }
  std::vector<int64_t> size(static_cast<size_t>(2 * n - 1), 1);
  std::vector<char> used(static_cast<size_t>(2 * n - 1), 0);
  for (int64_t i = 0; i < n - 1; ++i) {
    const Merge& m = z.merges[i];
    for (int64_t child : {m.a, m.b}) {
      if (child < 0 || child >= n + i || used[child]) {
        std::ostringstream s;
        s << where << ": merge " << i << " uses cluster " << child
          << (child >= 0 && child < n + i ? " a second time" : " which does not exist yet");
        invalid(s.str());
      }
      used[child] = 1;
    }
    if (std::isnan(m.height)) invalid(std::string(where) + ": merge " + std::to_string(i) + " has a NaN height");
    size[n + i] = size[m.a] + size[m.b];
    if (m.size != size[n + i]) {
      std::ostringstream s;
      s << where << ": merge " << i << " says size " << m.size << " but its children hold " << size[n + i];
      invalid(s.str());
    }
  }
}

// Observations below every node, in dendrogram order (left subtree first). Merges are visited in
// index order, which is always children-before-parent.
std::vector<std::vector<int64_t>> memberLists(const Linkage& z) {
  const int64_t n = z.n;
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(2 * n - 1));
  for (int64_t i = 0; i < n; ++i) members[i] = {i};
  for (int64_t i = 0; i < n - 1; ++i) {
    const Merge& m = z.merges[i];
    std::vector<int64_t>& out = members[n + i];
    out.reserve(static_cast<size_t>(m.size));
    out.insert(out.end(), members[m.a].begin(), members[m.a].end());
    out.insert(out.end(), members[m.b].begin(), members[m.b].end());
  }
  return members;
}

// fcluster's monotone criterion: the largest merge height in each merge's subtree (equal to its
// own height for the monotone linkages this library produces).
std::vector<double> maxHeights(const Linkage& z) {
  const int64_t n = z.n;
  std::vector<double> md(z.merges.size());
  for (int64_t i = 0; i < n - 1; ++i) {
    const Merge& m = z.merges[i];
    double h = m.height;
    if (m.a >= n) h = std::max(h, md[m.a - n]);
    if (m.b >= n) h = std::max(h, md[m.b - n]);
    md[i] = h;
  }
  return md;
}

std::string formatNumber(double value, int digits) {
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s << std::setprecision(digits) << value;
  return s.str();
}

std::string newickName(const std::string& name) {
  static const std::string special = " \t\r\n()[]':;,";
  if (!name.empty() && name.find_first_of(special) == std::string::npos) return name;
  std::string quoted = "'";
  for (char c : name) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

}  // namespace

// cutTreeSteps, flat: the merges in the order they are applied, and where each step's end
// (stepEnd[s]: one past step s's last merge). One allocation each rather than one per step.
static std::vector<int64_t> cutTreeOrder(const Linkage& z, std::vector<int64_t>& stepEnd) {
  const int64_t n = z.n;
  // scipy's node order: a breadth-first walk from the root (right child queued before left),
  // each node insorted before the nodes of equal height already listed. That is the reverse of
  // the walk, stably sorted by height.
  std::vector<int64_t> walk;  // merge indices
  walk.reserve(static_cast<size_t>(n > 0 ? n - 1 : 0));
  if (n > 1) {
    std::deque<int64_t> queue{2 * n - 2};
    while (!queue.empty()) {
      const int64_t id = queue.front();
      queue.pop_front();
      if (id < n) continue;
      walk.push_back(id - n);
      queue.push_back(z.merges[id - n].b);
      queue.push_back(z.merges[id - n].a);
    }
  }
  std::reverse(walk.begin(), walk.end());
  std::stable_sort(walk.begin(), walk.end(),
                   [&](int64_t l, int64_t r) { return z.merges[l].height < z.merges[r].height; });

  // A merge joins its whole subtree, as scipy's member lists do, even when a child merge comes
  // later in the walk (inverted heights): its unapplied descendants are applied first, and the
  // step that reaches an already applied merge changes nothing.
  std::vector<int64_t> order;
  order.reserve(walk.size());
  stepEnd.assign(walk.size(), 0);
  std::vector<char> applied(walk.size(), 0);
  std::vector<int64_t> pending;
  for (size_t step = 0; step < walk.size(); ++step) {
    pending.push_back(walk[step]);
    while (!pending.empty()) {
      const int64_t i = pending.back();
      if (applied[i]) {
        pending.pop_back();
        continue;
      }
      const Merge& m = z.merges[i];
      const bool aReady = m.a < n || applied[m.a - n], bReady = m.b < n || applied[m.b - n];
      if (!aReady) pending.push_back(m.a - n);
      if (!bReady) pending.push_back(m.b - n);
      if (!aReady || !bReady) continue;
      order.push_back(i);
      applied[i] = 1;
      pending.pop_back();
    }
    stepEnd[step] = static_cast<int64_t>(order.size());
  }
  return order;
}

std::vector<std::vector<int64_t>> cutTreeSteps(const Linkage& z) {
  checkLinkage(z, "cut_tree");
  std::vector<int64_t> stepEnd;
  const std::vector<int64_t> order = cutTreeOrder(z, stepEnd);
  std::vector<std::vector<int64_t>> steps(stepEnd.size());
  for (size_t s = 0, begin = 0; s < stepEnd.size(); begin = static_cast<size_t>(stepEnd[s]), ++s)
    steps[s].assign(order.begin() + static_cast<std::ptrdiff_t>(begin), order.begin() + stepEnd[s]);
  return steps;
}

// Labels after the first n - k steps of cutTreeOrder's replay. scipy relabels on every merge (the
// merged observations take the smallest label involved, labels above the largest one close the
// gap), which keeps labels ordered by each cluster's smallest observation; the same labels come
// from a union-find over the merges followed by one numbering of the clusters in order of their
// smallest observation: O(n) instead of O(n (n - k)) (the explorer cuts 60 trees of 512 leaves at
// ~64 K).
static std::vector<int64_t> labelsAfter(const Linkage& z, const std::vector<int64_t>& order,
                                        const std::vector<int64_t>& stepEnd, int64_t k) {
  const int64_t n = z.n;
  if (k < 1 || k > n) {
    std::ostringstream s;
    s << "cut_tree: cannot cut " << n << " observations into " << k << " clusters (need 1 <= K <= " << n << ")";
    invalid(s.str());
  }
  std::vector<int64_t> parent(static_cast<size_t>(2 * n - 1));
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int64_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const int64_t applied = n - k > 0 ? stepEnd[static_cast<size_t>(n - k - 1)] : 0;
  for (int64_t t = 0; t < applied; ++t) {
    const int64_t i = order[static_cast<size_t>(t)];
    parent[find(z.merges[i].a)] = n + i;
    parent[find(z.merges[i].b)] = n + i;
  }
  std::vector<int64_t> labels(static_cast<size_t>(n)), labelOfRoot(static_cast<size_t>(2 * n - 1), -1);
  int64_t next = 0;
  for (int64_t obs = 0; obs < n; ++obs) {
    int64_t& l = labelOfRoot[find(obs)];
    if (l < 0) l = next++;
    labels[obs] = l;
  }
  return labels;
}

std::vector<int64_t> cutTree(const Linkage& z, int64_t k) {
  checkLinkage(z, "cut_tree");
  std::vector<int64_t> stepEnd;
  const std::vector<int64_t> order = cutTreeOrder(z, stepEnd);
  return labelsAfter(z, order, stepEnd, k);
}

std::vector<std::vector<int64_t>> cutTreeMany(const Linkage& z, const std::vector<int64_t>& ks) {
  checkLinkage(z, "cut_tree");
  std::vector<int64_t> stepEnd;
  const std::vector<int64_t> order = cutTreeOrder(z, stepEnd);  // the walk and its sort, once
  std::vector<std::vector<int64_t>> out;
  out.reserve(ks.size());
  for (int64_t k : ks) out.push_back(labelsAfter(z, order, stepEnd, k));
  return out;
}

std::vector<int64_t> cutAtHeight(const Linkage& z, double height) {
  checkLinkage(z, "cut at height");
  if (std::isnan(height)) invalid("cut at height: the height is NaN");
  const int64_t n = z.n;
  const std::vector<double> md = maxHeights(z);
  // Union-find over the merges that stay below the cut; each tree id maps to its representative.
  std::vector<int64_t> parent(static_cast<size_t>(2 * n - 1));
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int64_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (int64_t i = 0; i < n - 1; ++i) {
    if (md[i] > height) continue;
    parent[find(z.merges[i].a)] = n + i;
    parent[find(z.merges[i].b)] = n + i;
  }
  std::vector<int64_t> roots(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) roots[i] = find(i);
  return canonicalLabels(roots);
}

int64_t clusterCountAtHeight(const Linkage& z, double height) {
  checkLinkage(z, "cluster count at height");
  if (std::isnan(height)) invalid("cluster count at height: the height is NaN");
  const std::vector<double> md = maxHeights(z);
  const auto below = std::count_if(md.begin(), md.end(), [&](double h) { return h <= height; });
  return z.n - static_cast<int64_t>(below);
}

std::vector<int64_t> fclusterDistance(const Linkage& z, double t) {
  checkLinkage(z, "fcluster");
  if (std::isnan(t)) invalid("fcluster: the threshold is NaN");
  const int64_t n = z.n;
  std::vector<int64_t> labels(static_cast<size_t>(n), 1);
  if (n == 1) return labels;
  const std::vector<double> md = maxHeights(z);

  // scipy's depth-first walk (left subtree, then right subtree, then the node's own leaf
  // children): a cluster number is taken when the walk enters the topmost node under the
  // threshold, or reaches a leaf that is not below such a node.
  std::vector<char> visited(static_cast<size_t>(2 * n - 1), 0);
  std::vector<int64_t> stack{2 * n - 2};
  int64_t leader = -1;
  int64_t count = 0;
  while (!stack.empty()) {
    const int64_t node = stack.back();
    const Merge& m = z.merges[node - n];
    if (leader == -1 && md[node - n] <= t) {
      leader = node;
      ++count;
    }
    if (m.a >= n && !visited[m.a]) {
      visited[m.a] = 1;
      stack.push_back(m.a);
      continue;
    }
    if (m.b >= n && !visited[m.b]) {
      visited[m.b] = 1;
      stack.push_back(m.b);
      continue;
    }
    for (int64_t child : {m.a, m.b}) {
      if (child >= n) continue;
      if (leader == -1) ++count;
      labels[child] = count;
    }
    if (leader == node) leader = -1;
    stack.pop_back();
  }
  return labels;
}

std::vector<int64_t> canonicalLabels(const std::vector<int64_t>& labels) {
  std::unordered_map<int64_t, int64_t> renamed;
  std::vector<int64_t> out;
  out.reserve(labels.size());
  for (int64_t label : labels) {
    auto it = renamed.emplace(label, static_cast<int64_t>(renamed.size())).first;
    out.push_back(it->second);
  }
  return out;
}

std::vector<int64_t> leavesList(const Linkage& z) {
  checkLinkage(z, "leaves_list");
  const int64_t n = z.n;
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(n));
  std::vector<int64_t> stack{2 * n - 2};
  while (!stack.empty()) {
    const int64_t id = stack.back();
    stack.pop_back();
    if (id < n) {
      order.push_back(id);
      continue;
    }
    stack.push_back(z.merges[id - n].b);  // popped after the whole left subtree
    stack.push_back(z.merges[id - n].a);
  }
  return order;
}

Tree buildTree(const Linkage& z) {
  checkLinkage(z, "tree");
  const int64_t n = z.n;
  Tree tree;
  tree.n = n;
  tree.root = 2 * n - 2;
  tree.leafOrder = leavesList(z);
  std::vector<std::vector<int64_t>> members = memberLists(z);
  tree.nodes.resize(static_cast<size_t>(2 * n - 1));
  for (int64_t id = 0; id < 2 * n - 1; ++id) {
    tree.nodes[id].id = id;
    tree.nodes[id].members = std::move(members[id]);
  }
  for (int64_t pos = 0; pos < n; ++pos) tree.nodes[tree.leafOrder[pos]].position = static_cast<double>(pos);
  for (int64_t i = 0; i < n - 1; ++i) {
    const Merge& m = z.merges[i];
    TreeNode& node = tree.nodes[n + i];
    node.left = m.a;
    node.right = m.b;
    node.height = m.height;
    node.size = m.size;
    node.position = 0.5 * (tree.nodes[m.a].position + tree.nodes[m.b].position);
    tree.nodes[m.a].parent = n + i;
    tree.nodes[m.b].parent = n + i;
  }
  return tree;
}

CondensedMatrix copheneticDistances(const Linkage& z) {
  checkLinkage(z, "cophenetic distances");
  const int64_t n = z.n;
  const std::vector<std::vector<int64_t>> members = memberLists(z);
  std::vector<double> d(static_cast<size_t>(n * (n - 1) / 2), 0.0);
  for (int64_t i = 0; i < n - 1; ++i) {
    const Merge& m = z.merges[i];
    for (int64_t u : members[m.a])
      for (int64_t v : members[m.b]) d[static_cast<size_t>(condensedIndex(n, u, v))] = m.height;
  }
  return CondensedMatrix(n, std::move(d));
}

double copheneticCorrelation(const Linkage& z, const CondensedMatrix& distances) {
  const CondensedMatrix c = copheneticDistances(z);
  if (distances.size() != z.n) {
    std::ostringstream s;
    s << "cophenetic correlation: " << distances.size() << " observations in the distances but " << z.n
      << " in the tree";
    invalid(s.str());
  }
  const std::vector<double>& x = c.values();
  const std::vector<double>& y = distances.values();
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double count = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / count;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / count;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);  // 0/0 = NaN for constant input, as scipy
}

std::string toNewick(const Linkage& z, const std::vector<std::string>& leafNames, int significantDigits) {
  checkLinkage(z, "newick");
  const int64_t n = z.n;
  if (!leafNames.empty() && static_cast<int64_t>(leafNames.size()) != n) {
    std::ostringstream s;
    s << "newick: " << leafNames.size() << " leaf names for " << n << " observations";
    invalid(s.str());
  }
  if (significantDigits < 1 || significantDigits > 17)
    invalid("newick: significant digits must be 1..17, got " + std::to_string(significantDigits));

  // Built bottom-up in merge order (children always precede their parent), so no recursion.
  std::vector<std::string> text(static_cast<size_t>(2 * n - 1));
  std::vector<double> height(static_cast<size_t>(2 * n - 1), 0.0);
  for (int64_t i = 0; i < n; ++i) text[i] = newickName(leafNames.empty() ? std::to_string(i) : leafNames[i]);
  for (int64_t i = 0; i < n - 1; ++i) {
    const Merge& m = z.merges[i];
    height[n + i] = m.height;
    std::string& out = text[n + i];
    out = "(" + text[m.a] + ":" + formatNumber(m.height - height[m.a], significantDigits) + "," + text[m.b] + ":" +
          formatNumber(m.height - height[m.b], significantDigits) + ")";
    text[m.a].clear();
    text[m.a].shrink_to_fit();
    text[m.b].clear();
    text[m.b].shrink_to_fit();
  }
  return text[2 * n - 2] + ";";
}

}  // namespace moe
