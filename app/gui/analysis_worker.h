#pragma once
// Runs analyses and reads stores off the GUI thread. Lives on the runner's QThread; results and
// progress travel back through queued signals; cancellation is each job's own atomic flag, which
// the core's analysis checks between experts.
#include <QObject>
#include <atomic>
#include <future>
#include <memory>

#include "app/gui/analysis_data.h"
#include "app/gui/analysis_request.h"

Q_DECLARE_METATYPE(moe::gui::AnalysisDataPtr)

namespace moe {
class Model;
namespace gui {

class AnalysisWorker : public QObject {
  Q_OBJECT

 public:
  using Cancel = std::shared_ptr<std::atomic<bool>>;

  // Opens the model, tokenizes the calibration text, resumes or creates the store, analyses what
  // is missing and reads the result (instant when the store is already complete).
  void analyse(const moe::gui::AnalysisRequest& request, const Cancel& cancel);
  // A finished store's statistics and its first plan's distances, read on a thread of their own
  // (started by the caller before it opens the model, which takes as long at 512 experts). `stop`
  // ends the read early, as `cancel` does: the caller found the store stale. The future holds the
  // store's errors.
  using Statistics = std::future<std::shared_ptr<AnalysisData>>;
  static Statistics readStatisticsAsync(const QString& storePath, const Cancel& cancel, const Cancel& stop);
  // The memory model of `model` (the store's model, opened by the caller), computed on a thread
  // of its own while the caller checks the store against the model; an unknown model when `model`
  // is null (the folder is not available) or the checkpoint cannot be planned.
  static std::future<MemoryModel> memoryModelAsync(std::shared_ptr<const moe::Model> model);
  // Completes the opening of a finished store: joins `statistics` and `memory`.
  void open(const Cancel& cancel, std::future<MemoryModel> memory, Statistics statistics);

 signals:
  void statusChanged(const QString& message);
  void progressed(const moe::gui::AnalysisProgressInfo& info);
  // During analyse(): the MoE blocks analysed so far (a prefix, AnalysisData::pendingLayers > 0),
  // sent after a block is stored, at most every kPartialInterval so the GUI thread keeps up.
  void partial(const moe::gui::AnalysisDataPtr& data);
  void finished(const moe::gui::AnalysisDataPtr& data);
  void failed(const QString& message, bool cancelled);
};

}  // namespace gui
}  // namespace moe
