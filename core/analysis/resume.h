#pragma once
// The resume policy of an analysis, in one place for the CLI (analyze) and the explorer's worker:
// a store may be continued only by a run that would have computed the same numbers, so one store
// never mixes layers computed under different settings.
//
// What must match, checked in this order (the first difference is reported):
//   the model (fingerprint: config.json, shard layout, sampled tensor bytes, sizes, times),
//   --stat, --dtype, --sequences, --length, and the calibration tokens themselves
//   (source, text field, tokenizer, random windows and seed all end up in the tokens).
// Device, thread count and --chunk do not change the statistics and may differ.
#include <string>

#include "core/analysis/store.h"

namespace moe {

// Why a store holding `stored` cannot be resumed by the run `wanted` describes (describeAnalysis),
// naming the setting and both values ("--length: the store was computed with 256, this run asks
// for 128"); empty when it can be resumed.
std::string resumeConflict(const AnalysisInfo& stored, const AnalysisInfo& wanted);

enum class OnResumeConflict {
  Refuse,     // throw Stale (the CLI: the user chose the file; --overwrite starts over)
  StartOver,  // replace the file (the explorer's per-settings cache)
};

struct OpenedAnalysisStore {
  AnalysisStore store;
  bool resumed = false;       // an existing store was opened for its remaining layers
  std::string startedOverBecause;  // set when StartOver replaced an existing file
};

// Opens `path` for the run `wanted`: a new store when there is none or `overwrite` is set, the
// existing one when resumeConflict() allows it. On a conflict (or, with StartOver, a damaged file)
// `onConflict` decides. Refusals are Stale errors naming the setting; Io errors always propagate.
OpenedAnalysisStore openAnalysisStoreForRun(const std::string& path, const AnalysisInfo& wanted, bool overwrite,
                                            OnResumeConflict onConflict);

}  // namespace moe
