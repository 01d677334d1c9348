#pragma once
// What to export: the plan (already in the merge-plan form), the source model and the target.
#include <QMetaType>
#include <QString>
#include <cstdint>
#include <vector>

#include "core/merge/plan.h"

namespace moe {
namespace gui {

struct ExportRequest {
  QString modelDir;
  QString target;
  moe::MergePlan plan;
  qint64 shardBytes = 5'000'000'000;
  // false: FP8 / MXFP4 sources stay quantized (merged experts re-quantized); true: everything in BF16
  // (moe::ExportPrecision, kept out of this header: it would bring ATen into Qt's moc files).
  bool bf16 = false;
  QString metricsMarkdown;  // for the model card
  // Calibration tokens [sequences, length] for fitted compact routers (lse-fit, soft-fit,
  // tied-fit) and neuron alignment: the analysis' own calibration set. Empty when no block needs them.
  std::vector<int64_t> calibTokens;
  std::vector<int64_t> calibShape;
};

struct ExportSummary {
  QString folder;
  int files = 0;
  qint64 tensorBytes = 0;
  qint64 tensors = 0;
};

}  // namespace gui
}  // namespace moe

Q_DECLARE_METATYPE(moe::gui::ExportRequest)
Q_DECLARE_METATYPE(moe::gui::ExportSummary)
