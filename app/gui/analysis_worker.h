#pragma once
// Runs analyses and reads stores off the GUI thread. Lives on the runner's QThread; results and
// progress travel back through queued signals; cancellation is each job's own atomic flag, which
// the core's analysis checks between experts.
#include <QObject>
#include <atomic>
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
  // Reads a finished store (the model folder it names, when present, gives the memory model) and
  // the distance matrices it holds.
  // `model`: the store's model, opened by the caller (which checked the store against it), or
  // null when it is not available (the statistics open without the memory model).
  void open(const QString& storePath, const Cancel& cancel, std::shared_ptr<const moe::Model> model);

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
