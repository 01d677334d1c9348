#pragma once
// Neuron alignment before averaging experts. The intermediate neurons of an expert can be permuted
// (gate/up rows, down columns, biases alike) without changing what the expert computes, so two
// experts that learned similar features in different orders average badly. Before a group is
// averaged, every member is permuted onto the group's reference expert: on the block's calibration
// inputs x [N, H], act = the expert's activated hidden (MoeBlock::slotHidden, so gpt-oss's clamped
// GLU and the biases are respected), C[i, j] = Pearson correlation over tokens between the
// reference's neuron i and the member's neuron j, and the permutation maximising sum_i C[i, p(i)]
// (a linear assignment, solved by the Hungarian method).
//
// The permutations are attached to the plan (LayerPlan::neuronPermutation); applyLayerPlan then
// permutes before merging, so every consumer of the plan (planOverride, export, the metrics) merges
// aligned experts. The calibration inputs are the original model's block inputs (one forward pass).
#include <ATen/ATen.h>

#include <atomic>
#include <functional>
#include <vector>

#include "core/merge/plan.h"
#include "core/nn/moe_block.h"

namespace moe {

class Model;

// Minimum-cost assignment of an n x n cost matrix (row-major, finite values): col[i] is the column
// of row i. O(n^3) Hungarian method with potentials (Jonker-Volgenant style shortest augmenting
// paths). Throws InvalidArgument for a size mismatch or a non-finite cost.
std::vector<int64_t> solveAssignment(const std::vector<double>& cost, int64_t n);

// Pearson correlation [I, J] (float64, CPU) between the columns of a [N, I] and b [N, J]; a constant
// column correlates 0 with everything.
at::Tensor neuronCorrelation(const at::Tensor& a, const at::Tensor& b);

// The permutation p aligning expert `member` of the block onto expert `reference` on inputs x [N, H]:
// the member's neuron p[i] takes the place of the reference's neuron i.
std::vector<int64_t> alignmentPermutation(const MoeBlock& block, int64_t reference, int64_t member, const at::Tensor& x);

// The reference of each group of a merge plan entry: the plan's dominant/centroid member where it
// has one (dominant, ream), else the member with the highest usage frequency (lower index on ties;
// the lowest member when there are no frequencies).
std::vector<int64_t> alignmentReferences(const LayerPlan& plan);

struct NeuronAlignOptions {
  int64_t maxTokens = 4096;  // calibration tokens per block (evenly strided subsample)
};

// Every member's permutation for one block (empty entries for references and singletons).
NeuronPermutations alignBlockNeurons(const MoeBlock& block, const LayerPlan& plan, const at::Tensor& x,
                                     const NeuronAlignOptions& options = {},
                                     const std::atomic<bool>* cancel = nullptr);

// The block with each expert's neurons permuted (an untied copy: expert e in slot e); function-
// preserving. Throws InvalidArgument when an entry is not a permutation of the block's neurons.
MoeBlock permuteExpertNeurons(const MoeBlock& block, const NeuronPermutations& perms);

// True when some entry asks for alignment and has no permutations attached yet.
bool planNeedsNeuronAlignment(const MergePlan& plan);

using NeuronAlignProgressFn = std::function<void(int moeDone, int moeTotal)>;

// The entry point for the CLI and the GUI: one forward pass of the original model over `calibIds`
// [B, T] (stopping after the last block that needs it) computes and attaches the permutations of
// every entry that asks for alignment. Throws Cancelled when `cancel` is set.
void alignPlanNeurons(MergePlan& plan, Model& model, const at::Tensor& calibIds, const NeuronAlignOptions& options = {},
                      const NeuronAlignProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr);

}  // namespace moe
