#pragma once
// Reading a linkage tree: flat cuts (scipy cut_tree / fcluster), dendrogram leaf order
// (leaves_list), a node table for drawing, cophenetic distances and Newick export.
// Every function validates the Linkage it is given (sizes, ids) and throws
// moe::Error(InvalidArgument) with context on bad input.
#include <cstdint>
#include <string>
#include <vector>

#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"

namespace moe {

// scipy.cluster.hierarchy.cut_tree(Z, n_clusters=k)[:, 0]: the state after applying the first
// n - k merges in cut_tree's node order (height, ties broken as scipy does), labels 0..k-1.
// scipy's numbering is by first appearance when scanning observations 0, 1, ..., and so is this.
// Requires 1 <= k <= n. (For linkages whose heights decrease somewhere, e.g. hand-made ones,
// the labels follow scipy's procedure to the letter, quirks included.)
std::vector<int64_t> cutTree(const Linkage& z, int64_t k);
// cutTree(z, k) for each k of `ks`, sharing the replay order (the explorer cuts every block's tree
// at 16 K per clustering choice).
std::vector<std::vector<int64_t>> cutTreeMany(const Linkage& z, const std::vector<int64_t>& ks);
// cutTree's replay, for walking every K at once: entry s lists the merges step s applies, in order
// (a merge after its unapplied descendants when heights are inverted; none when step s reaches a
// merge already applied). The clusters after the first n - k steps are cutTree(z, k)'s, and every
// listed merge joins exactly two current clusters (those of its children). n - 1 entries.
std::vector<std::vector<int64_t>> cutTreeSteps(const Linkage& z);

// Membership of scipy fcluster(Z, height, criterion='distance'): observations end up together
// when joined by merges whose subtree heights are all <= height. Labels are 0-based in order of
// first appearance (like cutTree), not fcluster's 1-based numbering; see fclusterDistance.
std::vector<int64_t> cutAtHeight(const Linkage& z, double height);
// Number of clusters cutAtHeight(z, height) gives.
int64_t clusterCountAtHeight(const Linkage& z, double height);
// fcluster(Z, t, criterion='distance') exactly, scipy's 1-based numbering included.
std::vector<int64_t> fclusterDistance(const Linkage& z, double t);

// Renumbers any labelling 0, 1, ... in order of first appearance (for comparing labellings
// up to renaming: equal partitions give equal canonical labels).
std::vector<int64_t> canonicalLabels(const std::vector<int64_t>& labels);

// scipy leaves_list: observations from left to right in the dendrogram (column 0 of a merge is
// drawn on the left).
std::vector<int64_t> leavesList(const Linkage& z);

// One node of the tree; ids as in the linkage (0..n-1 leaves, n + i for merge i).
struct TreeNode {
  int64_t id = 0;
  int64_t left = -1;    // children, -1 for leaves
  int64_t right = -1;
  int64_t parent = -1;  // -1 for the root
  double height = 0;    // merge height, 0 for leaves
  int64_t size = 1;     // number of observations below
  std::vector<int64_t> members;  // those observations, in dendrogram (leavesList) order
  // Horizontal coordinate for drawing: a leaf's index in leavesList; an inner node sits midway
  // between its children (as scipy's dendrogram places links).
  double position = 0;
};

struct Tree {
  int64_t n = 0;
  int64_t root = -1;                // 2n - 2 (0 when n == 1)
  std::vector<TreeNode> nodes;      // 2n - 1 entries, nodes[i].id == i
  std::vector<int64_t> leafOrder;   // leavesList(z)
};
// Builds the node table; memory is O(n^2) in the worst case because of the member lists.
Tree buildTree(const Linkage& z);

// Cophenetic distances (height of the lowest common ancestor) in pdist order, like scipy's
// cophenet(Z).
CondensedMatrix copheneticDistances(const Linkage& z);
// Pearson correlation between the cophenetic distances and the distances clustered: how
// faithfully the tree preserves them (scipy cophenet(Z, Y)[0]). NaN when either side is
// constant (e.g. n == 2).
double copheneticCorrelation(const Linkage& z, const CondensedMatrix& distances);

// Newick text of the tree, e.g. "((e0:0.1,e1:0.1):0.3,e2:0.4);". Branch length = parent height
// minus child height (leaves at height 0); left child first. Names containing Newick
// punctuation or blanks are single-quoted (quotes doubled); underscores are left as they are.
// leafNames must have n entries, or be empty to use "0", "1", .... Lengths are printed with
// `significantDigits` significant digits (1..17).
std::string toNewick(const Linkage& z, const std::vector<std::string>& leafNames = {}, int significantDigits = 6);

}  // namespace moe
