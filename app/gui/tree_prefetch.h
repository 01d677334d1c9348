#pragma once
// What a switch to a clustering choice one step from the plan's would compute on the GUI thread,
// computed in the background while the user looks at the current one: each block's tree, its
// error estimate at every K (when the estimate's models are built) and, per distance choice, its
// redundancy. A new representation at 512 experts x 60 blocks reads 120 MB of distances and links
// 60 trees (~370 ms here), then estimates every K of every block and the layer table's redundancy
// (~250 ms); prefetched, the switch only cuts and draws. The worker never keeps a distance matrix
// in the analysis' cache (one at a time, dropped once its block is done), so the explorer's memory
// stays that of the choice in use plus the trees (~20 KB per block of 512 experts). A newer
// request cancels an older one by its own flag, and older results are dropped by generation.
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "app/gui/analysis_data.h"
#include "app/gui/error_model_worker.h"
#include "app/gui/job_generation.h"
#include "app/gui/plan_derivation.h"
#include "core/analysis/clustering.h"

namespace moe {
namespace gui {

// Per block, the estimate at every K (index K; core's estimateMergeErrorByK).
using EstimateRows = std::vector<std::vector<double>>;

struct TreeRequest {
  std::string key;  // the explorer's cache key for the choice
  moe::ClusteringChoice choice;
  SharedTrees trees;  // already built: only the estimates (and redundancy) are wanted
};

struct PrefetchedChoice {
  std::string key;
  DistanceKey distance;
  SharedTrees trees;
  std::shared_ptr<const EstimateRows> estimates;  // null without models
  const void* models = nullptr;                   // the models they come from
  std::vector<double> redundancy;                 // per block; empty when not asked for
};

// One clustering choice for every block, one block per task on every core: its trees (unless
// `request.trees` holds them), the estimate of every K (with `models`) and, when `wantRedundancy`,
// its distances' redundancy. `cached`: the distances are read into the analysis' cache, for the
// GUI thread, whose views use them next; otherwise each block's is a copy dropped after its block,
// for background threads, which must not hold a reference keepDistances could drop. Throws
// moe::Error (malformed distances); returns early, incomplete, once `cancel` is set.
PrefetchedChoice buildChoice(const AnalysisData& data, const TreeRequest& request, const ErrorModels& models,
                             bool wantRedundancy, bool cached, const std::atomic<bool>* cancel = nullptr);

class TreePrefetchWorker : public QObject {
  Q_OBJECT

 public:
  void build(int generation, const moe::gui::AnalysisDataPtr& data, const moe::gui::ErrorModels& models,
             const std::vector<moe::gui::TreeRequest>& wanted, const std::set<moe::gui::DistanceKey>& redundancyKnown,
             std::shared_ptr<std::atomic<bool>> cancel);

 signals:
  void built(int generation, const moe::gui::PrefetchedChoice& choice);
  void finished(int generation);
};

// Owns the thread (nice +10, as the other background work); start() never waits, the destructor
// cancels and joins.
class TreePrefetcher : public QObject {
  Q_OBJECT

 public:
  explicit TreePrefetcher(QObject* parent = nullptr);
  ~TreePrefetcher() override;
  // Builds `wanted` in order (choices sharing distances read them once), cancelling a build in
  // progress. Estimates come with the trees when `models` is set; the redundancy of a distance
  // choice comes with its first member unless `redundancyKnown` holds it. A choice that fails
  // (malformed distances) is skipped: the switch to it builds it on the GUI thread and reports the
  // failure there.
  void start(const AnalysisDataPtr& data, const ErrorModels& models, std::vector<TreeRequest> wanted,
             std::set<DistanceKey> redundancyKnown);
  void cancel();
  bool isBusy() const { return busy_; }

 signals:
  void built(const moe::gui::PrefetchedChoice& choice);
  void idle();  // the last start()'s choices are all done (or skipped)

 private:
  QThread thread_;
  TreePrefetchWorker* worker_;
  JobGeneration job_;
  bool busy_ = false;
};

}  // namespace gui
}  // namespace moe

Q_DECLARE_METATYPE(moe::gui::PrefetchedChoice)
