#pragma once
// The statistics merge and compare work from: a finished analysis store (--analysis A.h5), or a
// fresh in-memory analysis of calibration text (--calib FILE).
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "core/analysis/clustering.h"
#include "core/analysis/store.h"
#include "core/engine/model.h"
#include "core/merge/neuron_alignment.h"
#include "core/merge/router_fit.h"

namespace moe::cli {

struct AnalysisSource {
  AnalysisInfo info;
  std::vector<LayerStats> layers;
  at::Tensor calibIds;  // the calibration tokens ([N, L]) the statistics come from
};

// Options it reads: analysis, calib, sequences, length, field.
AnalysisSource loadAnalysis(Model& model, const Args& args);

// Only the calibration token ids loadAnalysis would use ([N, L]), without running an analysis.
at::Tensor loadCalibrationIds(Model& model, const Args& args);

// K per MoE block from exactly one of --experts K, --budget TOTAL, --height H (empty when none
// is given; an error when several are, or when K lies outside 1..E of some block).
std::vector<int64_t> clustersFromArgs(const Args& args, const std::vector<LayerStats>& layers,
                                      const std::vector<LayerTree>& trees);

// Router-fit settings from --fit-tokens N (calibration tokens per block) and the --no-refine flag
// (tied-fit without its slower output-matching stage).
RouterFitOptions routerFitOptionsFromArgs(const Args& args);

// Neuron alignment from the --align-neurons / --no-align-neurons flags (unset when neither is given:
// the strategy's default, on for ream) and --align-tokens N (calibration tokens per block).
std::optional<bool> alignNeuronsFromArgs(const Args& args);
NeuronAlignOptions neuronAlignOptionsFromArgs(const Args& args);

// Computes and attaches the neuron permutations the plan asks for (nothing when none), with a
// progress line; loads the calibration tokens into `calibIds` when they are not there yet.
void alignPlanFromArgs(MergePlan& plan, Model& model, at::Tensor& calibIds, const Args& args);

// The plan of --plan P.json, or one built from the analysis (loadAnalysis) with the clustering,
// strategy, router and alignment options and one of --experts / --budget / --height (merge and
// generate share these options). `calibIds` receives the calibration ids when an analysis was read.
MergePlan planFromArgs(Model& model, const Args& args, at::Tensor& calibIds);
// The options and flags planFromArgs reads (with the router-fit and alignment ones), added to a
// command's own.
std::set<std::string> withPlanOptions(std::set<std::string> own);
std::set<std::string> withPlanFlags(std::set<std::string> own);

// "12,8,4" -> {12, 8, 4}
std::vector<int64_t> parseIntList(const std::string& spec, const std::string& option);

}  // namespace moe::cli
