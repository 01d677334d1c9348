#pragma once
// The instant error estimate's per-block models (core/analysis/error_estimate.h: the Gram matrix
// of the mean expert outputs, O(E^2 H) per block) built off the GUI thread. The explorer opens an
// analysis at once and shows "-" for estimates until the models arrive; a newer analysis cancels
// the build of an older one (its own flag) and older results are dropped by generation.
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>
#include <vector>

#include "app/gui/analysis_data.h"
#include "app/gui/job_generation.h"
#include "core/analysis/error_estimate.h"

namespace moe {
namespace gui {

using ErrorModels = std::shared_ptr<const std::vector<moe::MergeErrorModel>>;

class ErrorModelWorker : public QObject {
  Q_OBJECT

 public:
  void build(int generation, const moe::gui::AnalysisDataPtr& data, std::shared_ptr<std::atomic<bool>> cancel);

 signals:
  void built(int generation, const moe::gui::ErrorModels& models);
};

// Owns the thread; start() never waits, the destructor cancels and joins.
class ErrorModelBuilder : public QObject {
  Q_OBJECT

 public:
  explicit ErrorModelBuilder(QObject* parent = nullptr);
  ~ErrorModelBuilder() override;
  // Builds the models of `data` (cancelling a build in progress); ready() follows unless another
  // start() or cancel() comes first.
  void start(const AnalysisDataPtr& data);
  void cancel();
  bool isBusy() const { return busy_; }

 signals:
  void ready(const moe::gui::ErrorModels& models);

 private:
  QThread thread_;
  ErrorModelWorker* worker_;
  JobGeneration job_;
  bool busy_ = false;
};

}  // namespace gui
}  // namespace moe

Q_DECLARE_METATYPE(moe::gui::ErrorModels)
