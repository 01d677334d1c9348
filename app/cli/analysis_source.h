#pragma once
// The statistics merge and compare work from: a finished analysis store (--analysis A.h5), or a
// fresh in-memory analysis of calibration text (--calib FILE).
#include <vector>

#include "app/cli/args.h"
#include "core/analysis/clustering.h"
#include "core/analysis/store.h"
#include "core/engine/model.h"
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

// "12,8,4" -> {12, 8, 4}
std::vector<int64_t> parseIntList(const std::string& spec, const std::string& option);

}  // namespace moe::cli
