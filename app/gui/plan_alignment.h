#pragma once
// Neuron alignment (core/merge/neuron_alignment.h) for the explorer's workers: a plan whose entries
// ask for it (REAM, "Align neurons") gets its permutations from one forward pass of the original
// model over the analysis' calibration tokens before anything merges it, as the CLI does before
// `merge`, `compare` and `generate`. Plain std types here: moc-processed headers include this one.
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/merge/plan.h"

namespace moe {
class Model;
namespace gui {

// Whether some entry asks for alignment (the callers then pass the calibration tokens along).
bool planAsksForAlignment(const moe::MergePlan& plan);

// Attaches the permutations (core's alignPlanNeurons) when the plan needs them; nothing otherwise.
// calibTokens/calibShape: the analysis' calibration ids [sequences, length]. Throws InvalidArgument
// when they are missing, Cancelled when `cancel` is set.
void alignPlanOnCalibration(moe::MergePlan& plan, moe::Model& model, const std::vector<int64_t>& calibTokens,
                            const std::vector<int64_t>& calibShape, const std::function<void(int, int)>& progress = {},
                            const std::atomic<bool>* cancel = nullptr);

}  // namespace gui
}  // namespace moe
