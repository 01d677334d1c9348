#pragma once
// Exact layer reconstruction errors off the GUI thread (core/eval/reconstruction.h). The worker
// lives on the LayerErrorService's QThread: build() runs one forward pass over the analysis'
// calibration tokens and keeps, per MoE block, the block inputs and original outputs (and the
// original blocks themselves for small models), reporting each decoder layer; score() then merges
// ONE block as one plan entry says and measures ||merged(x) - original(x)|| / ||original(x)|| in
// tied and compact semantics.
// Torch stays in the .cpp (pimpl) so that widget code including this header compiles fast.
#include <QObject>
#include <atomic>
#include <memory>

#include "app/gui/analysis_data.h"
#include "core/merge/plan.h"

namespace moe {
namespace gui {

class LayerErrorWorker : public QObject {
  Q_OBJECT

 public:
  LayerErrorWorker();
  ~LayerErrorWorker() override;

  // Replaces the cache; `cancel` is this build's own flag (a newer build never resets an older one's).
  // While `pause` is set the build waits between decoder layers (the user is editing the plan).
  void build(int generation, const moe::gui::AnalysisDataPtr& data, std::shared_ptr<std::atomic<bool>> cancel,
             std::shared_ptr<const std::atomic<bool>> pause = nullptr);
  // Scores one plan entry against the cache of `generation` (ignored when the cache is another one).
  void score(int generation, const QString& key, const moe::LayerPlan& plan);

 signals:
  void buildProgressed(int generation, int layersDone, int layersTotal);  // decoder layers of the forward pass
  void built(int generation, qint64 tokensPerBlock, double seconds);
  void buildFailed(int generation, const QString& message, bool cancelled);
  // tied/compact: relative L2 errors; negative when that semantics cannot be applied to the entry.
  void scored(int generation, const QString& key, double tied, double compact);
  void scoreFailed(int generation, const QString& key, const QString& message);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace gui
}  // namespace moe
