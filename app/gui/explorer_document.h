#pragma once
// The open analysis and the plan being edited. Every plan edit goes through the undo stack as a
// PlanEditCommand; views listen to the signals and read the derived trees, K and clusters.
#include <QObject>
#include <QUndoStack>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/gui/analysis_data.h"
#include "app/gui/error_model_worker.h"
#include "app/gui/layer_error_service.h"
#include "app/gui/plan_derivation.h"
#include "app/gui/plan_metrics.h"
#include "app/gui/plan_state.h"
#include "app/gui/switch_builder.h"
#include "app/gui/tree_prefetch.h"
#include "core/analysis/error_estimate.h"

namespace moe {
namespace gui {

class ExplorerDocument : public QObject {
  Q_OBJECT

 public:
  explicit ExplorerDocument(QObject* parent = nullptr);

  QUndoStack* undoStack() { return &undo_; }
  bool hasAnalysis() const { return data_ != nullptr; }
  const AnalysisData& analysis() const { return *data_; }
  AnalysisDataPtr analysisPtr() const { return data_; }
  // Replaces the analysis; the plan starts from defaultPlan() and the undo history is cleared.
  // Trees come from the distances the store holds; the estimate's models are built in a worker
  // (estimatesChanged when they arrive, estimates are "unavailable" until then).
  void setAnalysis(const AnalysisDataPtr& data);

  int numMoeLayers() const { return data_ ? data_->numMoeLayers() : 0; }
  const PlanState& plan() const { return plan_; }
  const DerivedPlan& derived() const { return derived_; }
  const moe::LayerStats& stats(int j) const { return data_->layers.at(static_cast<size_t>(j)); }
  const moe::LayerTree& tree(int j) const { return derived_.trees->at(static_cast<size_t>(j)); }
  int64_t k(int j) const { return derived_.k.at(static_cast<size_t>(j)); }
  // The tree's cut into k(j) clusters, numbered in leaf order: what the plan groups by.
  const std::vector<int64_t>& clusters(int j) const { return derived_.clusters.at(static_cast<size_t>(j)); }
  // What the plan's strategy makes of block j's experts, numbered the same way: the cut's clusters
  // for the clustering merges, REAM's own centroid groups for REAM, each kept expert alone for the
  // pruning strategies, where a dropped expert is -1. The views colour by these, so that they show
  // what the merge will do (core's LayerPlan::groupOf of the plan's entry).
  const std::vector<int64_t>& mergeGroups(int j) const { return planGroups_.at(static_cast<size_t>(j)); }
  // Block j's distances under the plan's representation and metric (what its tree was built from).
  const moe::Matrix& distances(int j) const {
    return data_->distanceMatrix(j, plan_.representation, plan_.metric);
  }
  // Block j's redundancy under the plan's distances (widgets::redundancy, O(E^2)): computed for
  // every block at once when a distance choice is first asked for, or in the background with the
  // trees of the choices one switch away, and kept per distance choice.
  double redundancy(int j) const;
  // Layer error: the exact relative L2 error of the merged block (tied semantics) once the
  // LayerErrorService has scored the block's plan entry, core's Gram-matrix estimate until then
  // (layerErrorExact tells which); negative when neither is available (yet).
  double layerError(int j) const;
  bool layerErrorExact(int j) const;
  std::optional<ExactLayerError> exactLayerError(int j) const;  // tied and compact
  const moe::LayerPlan& layerPlan(int j) const { return *planEntries_.at(static_cast<size_t>(j)); }
  bool planErrorsExact() const;   // every block of the current plan scored
  bool curveErrorsExact() const;  // every block of every measured uniform plan (curveKs) scored
  // The uniform K whose exact errors are measured: every K from E down to 1 when E <= 16, else 16
  // values spread over that range (each K costs one merge and block forward per layer).
  const std::vector<int64_t>& curveKs() const { return curve_.ks; }
  // Mean over blocks of the current plan's / the uniform-K plan's errors: exact (tied) values, or
  // the proxy when `exact` is false. Negative when unavailable (exact: K not in curveKs).
  double meanError(bool exact) const;
  double meanError() const { return meanError(planErrorsExact()); }
  double uniformMeanError(int64_t K, bool exact) const;
  LayerErrorService* errorService() const { return errors_; }
  bool estimatesReady() const { return errorModels_ != nullptr; }
  int curveSerial() const { return curveSerial_; }  // changes whenever the uniform plans are rebuilt
  double memoryAfterPlan() const { return data_ ? memoryAfter(*data_, derived_.k) : 0; }

  // Whether the trees of the clustering choices one switch away, or of a switch made, are still
  // being built in the background (treesPrefetched when they are all there).
  bool prefetchingTrees() const { return prefetch_->isBusy() || pending_.has_value(); }

  // A clustering switch (linkage, representation, metric) on a large analysis, to a choice whose
  // trees are not built yet, is shown on the current layer at once and applied to the plan when
  // every block's tree is built in the background (an undoable edit, as any switch). Until then
  // plan() keeps the previous choice; the plan bar and the current layer's views show the new one.
  // Further switches made meanwhile compose with it; a switch back to the plan's choice, an undo
  // or a redo drops it. Smaller analyses (and allocation by cut height, where K depends on every
  // tree) switch at once, as before.
  static constexpr double kDeferredSwitchEntries = 1 << 20;  // sum over blocks of experts^2
  bool switchPending() const { return pending_.has_value(); }
  // Applies a pending switch now, building what is missing on this thread (as every switch did
  // before): for whatever reads the plan to act on it (save, export, measure, generate), so that
  // it acts on the choice the user sees.
  void settleSwitch();
  // The plan with the pending switch's clustering choice, if any.
  PlanState shownClustering() const;
  // What the current layer's views draw: the pending switch's tree of block j, its merge groups
  // (as mergeGroups) and distances when j is the current layer; otherwise the plan's.
  const moe::LayerTree& shownTree(int j) const;
  const std::vector<int64_t>& shownGroups(int j) const;
  const moe::Matrix& shownDistances(int j) const;
  // Whether a switch to `state`'s clustering choice finds everything it draws already computed:
  // its trees, their estimates (once the models are built) and its distances' redundancy.
  bool clusteringReady(const PlanState& state) const;

  int currentLayer() const { return current_; }
  void setCurrentLayer(int j);
  const std::vector<int64_t>& selection() const { return selection_; }
  void setSelection(const std::vector<int64_t>& experts);

  // Plan edits; each pushes one undoable command (a rejected edit emits editRejected instead).
  void editGlobalK(int64_t k, bool interactive = false);
  // interactive: part of a drag; consecutive interactive edits of one block merge into one command.
  void editLayerK(int j, int64_t k, bool interactive = false);
  void endInteractiveEdit() { interactiveOpen_ = false; }
  void resetLayerK(int j);  // back to the global allocation for block j
  void clearLayerOverrides();
  void editLinkage(moe::LinkageMethod method);
  void editRepresentation(moe::Representation representation);
  void editMetric(const std::string& metric);
  void editAllocation(Allocation allocation);
  void editHeight(double height);
  void editStrategy(moe::MergeStrategy strategy);
  // Neuron alignment before averaging (PlanState::alignNeurons); the plan bar offers it where the
  // strategy averages members.
  void editAlignNeurons(bool align);
  void loadPlan(const QString& path);  // throws moe::Error
  void savePlan(const QString& path);  // settles a pending switch first

  // Applies a state already validated by an edit (used by undo/redo).
  void applyState(const PlanState& state);

 signals:
  void analysisChanged();
  void planChanged();
  void clusteringChanged();  // trees were rebuilt (linkage, representation or metric changed)
  void currentLayerChanged(int j);
  void selectionChanged();
  void editRejected(const QString& reason);
  void errorsChanged();  // exact errors or the estimates' models arrived, or the service's status changed
  void estimatesChanged();  // the estimates' models arrived: every estimate (the proxy curve too) changed
  void treesPrefetched();
  // A switch was deferred, or a deferred one was dropped or refused: shownClustering() and the
  // current layer's shown tree changed (its application emits clusteringChanged as usual).
  void shownClusteringChanged();

 private:
  void push(const PlanState& next, const QString& text, int serial = -1);
  int mergeSerial(bool interactive);
  SharedTrees treesFor(const PlanState& state);  // cached per clustering choice
  // Starts computing, in the background, what a switch to each choice one step from the plan's
  // lacks (trees, estimates, redundancy): the other linkages of its distances first (one read of
  // the distances serves all of them), then its linkage on the other representations and the
  // other metric.
  void prefetchNeighbours();
  void takePrefetched(const PrefetchedChoice& p);
  bool redundancyKnown(const DistanceKey& distance) const;  // for every block
  // A linkage, representation or metric edit: at once, or deferred (see kDeferredSwitchEntries).
  void switchClustering(const PlanState& next);
  bool deferSwitch(const PlanState& next) const;
  void onSwitchBuilt(const PrefetchedChoice& p);
  void applyPendingSwitch();  // one undoable edit; a refused one drops the switch
  // Drops a pending switch; `refetch`: the neighbours of the plan's choice are prefetched again.
  void cancelPendingSwitch(bool refetch = true);
  void updatePreview();  // the pending switch's tree and groups of the current layer (throws moe::Error)
  void refreshPreview();  // updatePreview; a failure refuses the switch
  // estimates_K_, emptied first when the models changed since it was filled.
  std::map<const void*, EstimateRows>& estimateCache() const;
  void updateErrorRequests();  // plan entries and the uniform curve's entries, current layer first
  // Core's estimate for block j cut into kj clusters (its tree's leaf-ordered cut, as derive() and
  // the uniform curve use); negative when the analysis has no mean outputs or the models are not
  // built yet. Every K of a block is computed at once (O(E^2), core's estimateMergeErrorByK) and
  // cached for the current trees and models: the table, the current point and the curve ask for
  // the same values on every refresh.
  double estimatedError(int j, int64_t kj) const;
  // The cached rows of every K per block for the current trees and models, the missing ones
  // computed first (on every core). Only with the models built.
  std::vector<std::vector<double>>& estimateRows() const;

  QUndoStack undo_;
  AnalysisDataPtr data_;
  PlanState plan_;
  DerivedPlan derived_;
  // The plan push() derived to validate an edit, taken by the redo that follows (a clustering
  // switch cut every block twice, ~20 ms at 512 experts x 60 blocks).
  std::optional<std::pair<PlanState, DerivedPlan>> validated_;
  ErrorModelBuilder* estimates_;
  TreePrefetcher* prefetch_;
  SwitchBuilder* switch_;
  std::optional<PlanState> pending_;  // the deferred switch's target (its clustering fields count)
  struct Preview {
    int layer = -1;
    std::string key;  // clustering key of the tree
    moe::LayerTree tree;
    std::vector<int64_t> groups;
  };
  std::optional<Preview> preview_;
  ErrorModels errorModels_;  // per block, for the instant estimate; null until built
  LayerErrorService* errors_;
  std::vector<std::shared_ptr<const moe::LayerPlan>> planEntries_;  // per block, the current plan
  std::vector<QString> planKeys_;            // their layerPlanKey
  std::vector<int64_t> planEntryK_;          // the K each entry was built for
  std::vector<std::vector<int64_t>> planGroups_;  // their groupOf, in leaf order (mergeGroups)
  std::string planEntriesFor_;               // curve key (clustering + strategy) they were built for
  const void* planEntriesTrees_ = nullptr;   // and the trees
  // Per tree set: [block][K]; an empty row is not computed yet.
  mutable std::map<const void*, EstimateRows> estimates_K_;
  mutable std::map<DistanceKey, std::vector<double>> redundancy_;  // per distance choice, per block
  mutable const void* estimatesModels_ = nullptr;  // the models the cache was filled with
  std::string curveFor_;                     // clustering + strategy the curve was built for
  int curveSerial_ = 0;
  struct UniformCurve {
    std::vector<int64_t> ks;
    std::vector<std::vector<LayerErrorService::KeyedEntry>> entries;  // [i][block]: the plan K = ks[i], keyed once
  };
  UniformCurve curve_;
  std::map<std::string, UniformCurve> curveCache_;  // other clustering choices' curves, for switching back
  std::map<std::string, SharedTrees> treeCache_;
  int current_ = 0;
  std::vector<int64_t> selection_;
  bool interactiveOpen_ = false;
  int serial_ = 0;
};

}  // namespace gui
}  // namespace moe
