#include "app/gui/explorer_document.h"

#include <QStringList>
#include <algorithm>
#include <cmath>

#include "app/gui/merge_plan_builder.h"
#include "app/gui/parallel_for.h"
#include "app/gui/plan_edit_command.h"
#include "core/error.h"
#include "core/merge/plan_builder.h"  // torch-free header
#include "widgets/layer_metrics.h"

namespace moe {
namespace gui {
namespace {

QString linkageText(moe::LinkageMethod m) {
  switch (m) {
    case moe::LinkageMethod::Single: return ExplorerDocument::tr("single");
    case moe::LinkageMethod::Complete: return ExplorerDocument::tr("complete");
    case moe::LinkageMethod::Average: return ExplorerDocument::tr("average");
    case moe::LinkageMethod::Ward: return ExplorerDocument::tr("Ward");
  }
  return {};
}

// What an undoable clustering switch says: each field that changed (a deferred switch may carry
// several edits made while it was built).
QString clusteringEditText(const PlanState& from, const PlanState& to) {
  QStringList parts;
  if (to.linkage != from.linkage) parts << ExplorerDocument::tr("Use %1 linkage").arg(linkageText(to.linkage));
  if (to.representation != from.representation)
    parts << ExplorerDocument::tr("Compare experts by %1")
                 .arg(QString::fromLatin1(moe::representationName(to.representation)));
  if (to.metric != from.metric)
    parts << ExplorerDocument::tr("Use %1 distance").arg(QString::fromStdString(to.metric));
  return parts.join(QStringLiteral("; "));
}

void copyClustering(const PlanState& from, PlanState& to) {
  to.linkage = from.linkage;
  to.representation = from.representation;
  to.metric = from.metric;
}

}  // namespace

ExplorerDocument::ExplorerDocument(QObject* parent)
    : QObject(parent),
      estimates_(new ErrorModelBuilder(this)),
      prefetch_(new TreePrefetcher(this)),
      switch_(new SwitchBuilder(this)),
      errors_(new LayerErrorService(this)) {
  undo_.setUndoLimit(500);
  connect(estimates_, &ErrorModelBuilder::ready, this, [this](const ErrorModels& models) {
    errorModels_ = models;
    prefetchNeighbours();  // the estimates of the choices one switch away
    emit estimatesChanged();
    emit errorsChanged();
  });
  // Results of an older plan or analysis never arrive (the prefetcher drops them by generation).
  connect(prefetch_, &TreePrefetcher::built, this, &ExplorerDocument::takePrefetched);
  connect(prefetch_, &TreePrefetcher::idle, this, &ExplorerDocument::treesPrefetched);
  connect(switch_, &SwitchBuilder::built, this, &ExplorerDocument::onSwitchBuilt);
  connect(switch_, &SwitchBuilder::failed, this, [this](const std::string& key, const QString& message) {
    if (!pending_ || pending_->clusteringKey() != key) return;
    cancelPendingSwitch();
    emit editRejected(message);
    emit shownClusteringChanged();
  });
  connect(errors_, &LayerErrorService::resultsChanged, this, &ExplorerDocument::errorsChanged);
  connect(errors_, &LayerErrorService::statusChanged, this, &ExplorerDocument::errorsChanged);
}

void ExplorerDocument::setAnalysis(const AnalysisDataPtr& data) {
  cancelPendingSwitch(/*refetch=*/false);
  undo_.clear();
  treeCache_.clear();
  // The caches compare tree/model addresses, which a new analysis may reuse: start them afresh.
  estimates_K_.clear();
  estimatesModels_ = nullptr;
  redundancy_.clear();
  curveCache_.clear();
  planEntries_.clear();
  planEntriesFor_.clear();
  planEntriesTrees_ = nullptr;
  data_ = data;
  errorModels_.reset();
  estimates_->start(data_);
  PlanState first = defaultPlan(*data_);
  if (data_->firstTrees) treeCache_.emplace(first.clusteringKey(), data_->firstTrees);
  std::string lastError;
  // Stores analysed with the cheaper statistic lack some representations: fall back in order.
  for (moe::Representation r : {first.representation, moe::Representation::ExpertOutputRouted,
                                moe::Representation::RouterLogits, moe::Representation::Weights}) {
    first.representation = r;
    try {
      derived_ = derive(*data_, first, treesFor(first));
      lastError.clear();
      break;
    } catch (const moe::Error& e) {
      lastError = e.what();
    }
  }
  if (!lastError.empty()) throw moe::Error(moe::ErrorKind::InvalidArgument, lastError);
  plan_ = first;
  current_ = 0;
  selection_.clear();
  interactiveOpen_ = false;
  curveFor_.clear();
  // A partial result (analysis still running) gets no exact scoring: it would run block forwards
  // beside the analysis and be thrown away when the next layer arrives.
  errors_->setAnalysis(data_->pendingLayers > 0 ? nullptr : data_);
  updateErrorRequests();
  prefetchNeighbours();
  emit analysisChanged();
  emit clusteringChanged();
  emit planChanged();
  emit currentLayerChanged(current_);
  emit selectionChanged();
}

void ExplorerDocument::prefetchNeighbours() {
  // A partial result (analysis still running) is replaced by the next layer's: no background
  // linkage beside the analysis for trees that would be thrown away.
  if (!hasAnalysis() || data_->pendingLayers > 0) return prefetch_->cancel();
  // During a pending switch the cores build its trees; its neighbours come once it is applied.
  if (pending_) return prefetch_->cancel();
  std::vector<TreeRequest> wanted;
  std::set<DistanceKey> knownRedundancy;
  for (const auto& [key, values] : redundancy_)
    if (redundancyKnown(key)) knownRedundancy.insert(key);
  auto want = [&](const PlanState& s) {
    const std::string key = s.clusteringKey();
    for (const TreeRequest& r : wanted)
      if (r.key == key) return;
    const moe::ClusteringChoice choice = clusteringChoice(s);
    try {
      moe::validateClusteringChoice(choice);  // Ward on cosine distances is not a choice
    } catch (const moe::Error&) {
      return;
    }
    if (clusteringReady(s)) return;
    const auto cached = treeCache_.find(key);
    wanted.push_back({key, choice, cached == treeCache_.end() ? nullptr : cached->second});
  };
  for (moe::LinkageMethod m : {moe::LinkageMethod::Average, moe::LinkageMethod::Complete, moe::LinkageMethod::Single,
                               moe::LinkageMethod::Ward}) {
    PlanState s = plan_;
    s.linkage = m;
    if (!s.sameClustering(plan_)) want(s);
  }
  for (moe::Representation r : moe::allRepresentations()) {
    PlanState s = plan_;
    s.representation = r;
    if (!s.sameClustering(plan_)) want(s);
  }
  for (const char* metric : {"euclidean", "cosine"}) {
    PlanState s = plan_;
    s.metric = metric;
    if (!s.sameClustering(plan_)) want(s);
  }
  prefetch_->start(data_, errorModels_, std::move(wanted), std::move(knownRedundancy));
}

bool ExplorerDocument::clusteringReady(const PlanState& state) const {
  if (!hasAnalysis()) return false;
  const auto trees = treeCache_.find(state.clusteringKey());
  if (trees == treeCache_.end()) return false;
  if (errorModels_ && !estimateCache().count(trees->second.get())) return false;
  return redundancyKnown({state.representation, state.metric});
}

void ExplorerDocument::takePrefetched(const PrefetchedChoice& p) {
  // The GUI thread may have built the same choice meanwhile (the user switched to it first): its
  // trees stay, and the estimates computed on the others are not theirs.
  const SharedTrees trees = treeCache_.emplace(p.key, p.trees).first->second;
  if (p.estimates && p.models == errorModels_.get() && trees == p.trees) estimateCache()[trees.get()] = *p.estimates;
  if (!p.redundancy.empty()) redundancy_[p.distance] = p.redundancy;
}

std::map<const void*, EstimateRows>& ExplorerDocument::estimateCache() const {
  if (estimatesModels_ != errorModels_.get()) estimates_K_.clear(), estimatesModels_ = errorModels_.get();
  return estimates_K_;
}

double ExplorerDocument::redundancy(int j) const {
  std::vector<double>& values = redundancy_[{plan_.representation, plan_.metric}];
  if (values.size() != static_cast<size_t>(numMoeLayers())) {
    // On every core: after a switch to distances not prefetched this is 60 x O(E^2) at 512
    // experts (30 ms on the GUI thread alone).
    std::vector<double> computed(static_cast<size_t>(numMoeLayers()));
    parallelFor(numMoeLayers(), [&](int i) { computed[static_cast<size_t>(i)] = widgets::redundancy(distances(i)); });
    values = std::move(computed);  // only when every block's was computed
  }
  return values.at(static_cast<size_t>(j));
}

SharedTrees ExplorerDocument::treesFor(const PlanState& state) {
  const std::string key = state.clusteringKey();
  if (const auto it = treeCache_.find(key); it != treeCache_.end()) return it->second;
  // A switch shows, for every block, the redundancy of the new distances and the estimate of every
  // K on the new trees: computed in the linkage's own tasks, while each block's matrix is in cache,
  // rather than in two more passes over the 60 blocks after it (at 512 experts 10-25 ms and
  // 25-30 ms on both cores).
  const TreeRequest request{key, clusteringChoice(state), nullptr};
  moe::validateClusteringChoice(request.choice);  // core's rule, before any tree is built
  takePrefetched(buildChoice(*data_, request, errorModels_, !redundancyKnown({state.representation, state.metric}),
                             /*cached=*/true));
  return treeCache_.at(key);
}

bool ExplorerDocument::redundancyKnown(const DistanceKey& distance) const {
  const auto known = redundancy_.find(distance);
  return known != redundancy_.end() && known->second.size() == static_cast<size_t>(numMoeLayers());
}

double ExplorerDocument::layerError(int j) const {
  if (!hasAnalysis()) return -1;
  if (const auto e = exactLayerError(j); e && e->tied >= 0) return e->tied;
  return estimatedError(j, k(j));
}

double ExplorerDocument::estimatedError(int j, int64_t kj) const {
  if (!errorModels_ || j < 0 || j >= static_cast<int>(errorModels_->size())) return -1;  // not built yet
  if (kj < 1 || kj > stats(j).numExperts) return -1;
  return estimateRows()[static_cast<size_t>(j)].at(static_cast<size_t>(kj));
}

std::vector<std::vector<double>>& ExplorerDocument::estimateRows() const {
  // Kept per tree set (the trees live as long as the analysis, in treeCache_), so that switching
  // back to a clustering choice finds its estimates.
  std::vector<std::vector<double>>& rows = estimateCache()[derived_.trees.get()];
  if (rows.size() != static_cast<size_t>(numMoeLayers())) rows.assign(static_cast<size_t>(numMoeLayers()), {});
  // Every K of a block at once, one walk of its tree (the clusters of any K are its cuts, as
  // derive() and the uniform curve make them). The first request after the models arrive, or
  // after a new clustering choice, needs every block: on every core (at 512 experts x 60 blocks
  // about 100 ms on one, which held up a drag frame when the models arrived during it).
  std::vector<int> missing;
  const int modelled = std::min(numMoeLayers(), static_cast<int>(errorModels_->size()));
  for (int j = 0; j < modelled; ++j)
    if (rows[static_cast<size_t>(j)].empty()) missing.push_back(j);
  parallelFor(static_cast<int>(missing.size()), [&](int i) {
    const size_t j = static_cast<size_t>(missing[static_cast<size_t>(i)]);
    rows[j] = moe::estimateMergeErrorByK((*errorModels_)[j], tree(static_cast<int>(j)).linkage);
  });
  return rows;
}

std::optional<ExactLayerError> ExplorerDocument::exactLayerError(int j) const {
  if (!hasAnalysis() || j < 0 || j >= static_cast<int>(planKeys_.size())) return std::nullopt;
  return errors_->result(planKeys_[static_cast<size_t>(j)]);
}

bool ExplorerDocument::layerErrorExact(int j) const {
  const auto e = exactLayerError(j);
  return e && e->tied >= 0;
}

bool ExplorerDocument::planErrorsExact() const {
  if (!hasAnalysis()) return false;
  for (int j = 0; j < numMoeLayers(); ++j)
    if (!layerErrorExact(j)) return false;
  return true;
}

bool ExplorerDocument::curveErrorsExact() const {
  if (!hasAnalysis() || curve_.entries.empty()) return false;
  for (const auto& plan : curve_.entries)
    for (const auto& entry : plan) {
      const auto e = errors_->result(entry.first);
      if (!e || e->tied < 0) return false;
    }
  return true;
}

double ExplorerDocument::meanError(bool exact) const {
  if (!hasAnalysis() || numMoeLayers() == 0) return -1;
  double sum = 0;
  for (int j = 0; j < numMoeLayers(); ++j) {
    double e = -1;
    if (exact) {
      const auto r = exactLayerError(j);
      e = r ? r->tied : -1;
    } else {
      e = estimatedError(j, k(j));
    }
    if (e < 0) return -1;
    sum += e;
  }
  return sum / numMoeLayers();
}

double ExplorerDocument::uniformMeanError(int64_t K, bool exact) const {
  if (!hasAnalysis() || numMoeLayers() == 0) return -1;
  double sum = 0;
  for (int j = 0; j < numMoeLayers(); ++j) {
    const int64_t kj = std::min(K, stats(j).numExperts);
    double e = -1;
    if (exact) {
      const size_t row = static_cast<size_t>(std::find(curve_.ks.begin(), curve_.ks.end(), K) - curve_.ks.begin());
      if (row < curve_.entries.size()) {
        const auto r = errors_->result(curve_.entries[row][static_cast<size_t>(j)].first);
        e = r ? r->tied : -1;
      }
    } else {
      e = estimatedError(j, kj);
    }
    if (e < 0) return -1;
    sum += e;
  }
  return sum / numMoeLayers();
}

void ExplorerDocument::updateErrorRequests() {
  if (!hasAnalysis()) return;
  const std::string curveKey = plan_.clusteringKey() + "/" + moe::mergeStrategyName(plan_.strategy) + "/" +
                               (plan_.alignRequest() ? (*plan_.alignRequest() ? "aligned" : "unaligned") : "default");
  // Only the blocks whose K changed get a new entry and key: a drag edits one block, and keying
  // every block's labels costs milliseconds per edit at 512 experts x 60 blocks.
  const size_t blocks = static_cast<size_t>(numMoeLayers());
  const bool reuse = planEntriesFor_ == curveKey && planEntriesTrees_ == derived_.trees.get() &&
                     planEntries_.size() == blocks && planEntryK_.size() == blocks;
  if (!reuse) {
    planEntries_.assign(blocks, {}), planKeys_.assign(blocks, {}), planEntryK_.assign(blocks, -1);
    planGroups_.assign(blocks, {});
  }
  planEntriesFor_ = curveKey;
  planEntriesTrees_ = derived_.trees.get();
  std::vector<int> changed;
  for (int j = 0; j < numMoeLayers(); ++j)
    if (planEntryK_[static_cast<size_t>(j)] != k(j)) changed.push_back(j);
  // On every core: a clustering switch rebuilds all blocks' entries.
  parallelFor(static_cast<int>(changed.size()), [&](int i) {
    const int j = changed[static_cast<size_t>(i)];
    const size_t b = static_cast<size_t>(j);
    planEntries_[b] = std::make_shared<const moe::LayerPlan>(moe::layerPlanForGroups(
        stats(j), k(j), clusters(j), plan_.strategy, moe::RouterMode::Average, plan_.alignRequest()));
    planKeys_[b] = layerPlanKey(*planEntries_[b]);
    planGroups_[b] = leafOrdered(tree(j), planEntries_[b]->groupOf());
    planEntryK_[b] = k(j);
  });
  if (curveKey != curveFor_) {
    // The uniform plans of a clustering choice are kept (a few MB) for switching back to it.
    if (!curveFor_.empty()) curveCache_[curveFor_] = std::move(curve_);
    curveFor_ = curveKey;
    ++curveSerial_;
    curve_ = {};
    if (auto it = curveCache_.find(curveKey); it != curveCache_.end()) {
      curve_ = std::move(it->second);
      curveCache_.erase(it);
    }
  }
  if (curve_.entries.empty()) {
    const int64_t maxE = data_->maxExperts();
    constexpr int64_t kMaxCurvePoints = 16;
    for (int64_t i = 0; i < std::min(maxE, kMaxCurvePoints); ++i) {
      const int64_t K = maxE <= kMaxCurvePoints ? maxE - i
                                                : maxE - (i * (maxE - 1) + (kMaxCurvePoints - 1) / 2) / (kMaxCurvePoints - 1);
      if (curve_.ks.empty() || curve_.ks.back() != K) curve_.ks.push_back(K);
    }
    // Each block's tree is cut at every K of the curve at once (one replay order per tree), one
    // block per task on every core.
    curve_.entries.assign(curve_.ks.size(), std::vector<LayerErrorService::KeyedEntry>(static_cast<size_t>(blocks)));
    parallelFor(numMoeLayers(), [&](int j) {
      std::vector<int64_t> ks;
      for (int64_t K : curve_.ks) ks.push_back(std::min(K, stats(j).numExperts));
      const std::vector<std::vector<int64_t>> cuts = leafOrderedClusters(tree(j), ks);
      for (size_t i = 0; i < ks.size(); ++i) {
        auto entry = std::make_shared<const moe::LayerPlan>(moe::layerPlanForGroups(
            stats(j), ks[i], cuts[i], plan_.strategy, moe::RouterMode::Average, plan_.alignRequest()));
        QString key = layerPlanKey(*entry);
        curve_.entries[i][static_cast<size_t>(j)] = {std::move(key), std::move(entry)};
      }
    });
  }
  // What the user looks at first: the current layer, the rest of the plan, then the curve.
  std::vector<LayerErrorService::KeyedEntry> wanted;
  const size_t cur = static_cast<size_t>(current_);
  wanted.emplace_back(planKeys_[cur], planEntries_[cur]);
  for (size_t j = 0; j < planEntries_.size(); ++j)
    if (j != cur) wanted.emplace_back(planKeys_[j], planEntries_[j]);
  for (const auto& row : curve_.entries) wanted.insert(wanted.end(), row.begin(), row.end());
  errors_->setWanted(std::move(wanted));
}

void ExplorerDocument::setCurrentLayer(int j) {
  if (!hasAnalysis() || j < 0 || j >= numMoeLayers() || j == current_) return;
  current_ = j;
  selection_.clear();
  refreshPreview();  // the pending switch's tree of the new current layer
  updateErrorRequests();
  emit currentLayerChanged(j);
  emit selectionChanged();
}

void ExplorerDocument::setSelection(const std::vector<int64_t>& experts) {
  if (experts == selection_) return;
  selection_ = experts;
  emit selectionChanged();
}

void ExplorerDocument::applyState(const PlanState& state) {
  // An undo or redo (not an edit pushed during the switch) drops a pending switch.
  const bool validated = validated_ && validated_->first == state;
  const bool dropped = !validated && pending_.has_value();
  if (dropped) cancelPendingSwitch(/*refetch=*/false);
  const bool rebuilt = !state.sameClustering(plan_);
  if (validated)
    derived_ = std::move(validated_->second);
  else
    derived_ = derive(*data_, state, treesFor(state), &derived_);
  validated_.reset();
  plan_ = state;
  // The distances of the choice in use (and its cosine, which the similarity heatmap shows) stay;
  // the trees of the others stay cached, their distances are read again if a view needs them.
  if (rebuilt) data_->keepDistances({{plan_.representation, plan_.metric}, {plan_.representation, "cosine"}});
  updateErrorRequests();
  if (rebuilt || dropped) prefetchNeighbours();
  refreshPreview();
  if (dropped) emit shownClusteringChanged();
  if (rebuilt) emit clusteringChanged();
  emit planChanged();
}

void ExplorerDocument::refreshPreview() {
  if (!pending_) return;
  try {
    updatePreview();
  } catch (const std::exception& e) {  // this block's distances are malformed: the switch is refused
    cancelPendingSwitch();
    emit editRejected(QString::fromStdString(e.what()));
    emit shownClusteringChanged();
  }
}

void ExplorerDocument::push(const PlanState& next, const QString& text, int serial) {
  if (!hasAnalysis() || next == plan_) return;
  try {
    // Validated before it reaches the undo stack; the redo that push() runs takes the result.
    validated_.emplace(next, derive(*data_, next, treesFor(next), &derived_));
  } catch (const std::exception& e) {  // moe::Error and any library exception: the edit is refused
    emit editRejected(QString::fromStdString(e.what()));
    return;
  }
  // Another clustering choice applied at once (a loaded plan) replaces a pending switch.
  if (!next.sameClustering(plan_)) cancelPendingSwitch(/*refetch=*/false);
  undo_.push(new PlanEditCommand(this, plan_, next, text, serial));
}

int ExplorerDocument::mergeSerial(bool interactive) {
  if (!interactive) return -1;
  if (!interactiveOpen_) ++serial_, interactiveOpen_ = true;
  return serial_;
}

void ExplorerDocument::editGlobalK(int64_t k, bool interactive) {
  PlanState next = plan_;
  next.globalK = k;
  next.layerK.clear();
  if (next.allocation == Allocation::Distance) next.allocation = Allocation::Uniform;
  push(next, next.allocation == Allocation::Frequency ? tr("Set the expert budget to %1 per layer").arg(k)
                                                      : tr("Set K = %1 for every layer").arg(k),
       mergeSerial(interactive));
}

void ExplorerDocument::editLayerK(int j, int64_t k, bool interactive) {
  if (!hasAnalysis() || j < 0 || j >= numMoeLayers()) return;
  PlanState next = plan_;
  next.layerK[j] = std::clamp<int64_t>(k, 1, stats(j).numExperts);
  push(next, tr("Set K = %1 for layer %2").arg(next.layerK[j]).arg(stats(j).layer), mergeSerial(interactive));
}

void ExplorerDocument::resetLayerK(int j) {
  PlanState next = plan_;
  if (next.layerK.erase(j) == 0) return;
  push(next, tr("Reset K of layer %1").arg(stats(j).layer));
}

void ExplorerDocument::clearLayerOverrides() {
  PlanState next = plan_;
  next.layerK.clear();
  push(next, tr("Reset per-layer K"));
}

void ExplorerDocument::editLinkage(moe::LinkageMethod method) {
  PlanState next = shownClustering();
  next.linkage = method;
  switchClustering(next);
}

void ExplorerDocument::editRepresentation(moe::Representation representation) {
  PlanState next = shownClustering();
  next.representation = representation;
  switchClustering(next);
}

void ExplorerDocument::editMetric(const std::string& metric) {
  PlanState next = shownClustering();
  next.metric = metric;
  switchClustering(next);
}

PlanState ExplorerDocument::shownClustering() const {
  PlanState s = plan_;
  if (pending_) copyClustering(*pending_, s);
  return s;
}

const moe::LayerTree& ExplorerDocument::shownTree(int j) const {
  return preview_ && preview_->layer == j ? preview_->tree : tree(j);
}

const std::vector<int64_t>& ExplorerDocument::shownGroups(int j) const {
  return preview_ && preview_->layer == j ? preview_->groups : mergeGroups(j);
}

const moe::Matrix& ExplorerDocument::shownDistances(int j) const {
  const PlanState s = preview_ && preview_->layer == j ? shownClustering() : plan_;
  return data_->distanceMatrix(j, s.representation, s.metric);
}

bool ExplorerDocument::deferSwitch(const PlanState& next) const {
  if (next.allocation == Allocation::Distance) return false;  // K itself depends on every block's tree
  if (treeCache_.count(next.clusteringKey())) return false;     // built: the switch only cuts
  double entries = 0;
  for (const moe::LayerStats& l : data_->layers) entries += static_cast<double>(l.numExperts) * l.numExperts;
  return entries >= kDeferredSwitchEntries;
}

void ExplorerDocument::switchClustering(const PlanState& next) {
  if (!hasAnalysis()) return;
  const bool hadPending = pending_.has_value();
  if (next.sameClustering(plan_)) {  // back to the plan's choice before the switch was built
    if (hadPending) cancelPendingSwitch(), emit shownClusteringChanged();
    return;
  }
  if (!deferSwitch(next)) {
    cancelPendingSwitch(/*refetch=*/false);
    push(next, clusteringEditText(plan_, next));
    if (!plan_.sameClustering(next)) {  // refused
      if (hadPending) emit shownClusteringChanged();
      prefetchNeighbours();
    }
    return;
  }
  const TreeRequest request{next.clusteringKey(), clusteringChoice(next), nullptr};
  try {
    moe::validateClusteringChoice(request.choice);  // Ward on cosine distances is not a choice
  } catch (const moe::Error& e) {
    emit editRejected(QString::fromStdString(e.what()));
    return;
  }
  PlanState target = plan_;
  copyClustering(next, target);
  pending_ = target;
  prefetch_->cancel();  // the neighbours of a choice being left
  switch_->start(data_, errorModels_, request, !redundancyKnown({next.representation, next.metric}));
  try {
    updatePreview();
  } catch (const std::exception& e) {  // the current block's distances are malformed
    cancelPendingSwitch();
    emit editRejected(QString::fromStdString(e.what()));
  }
  emit shownClusteringChanged();
}

void ExplorerDocument::updatePreview() {
  if (!pending_) return preview_.reset();
  const int j = current_;
  const std::string key = pending_->clusteringKey();
  if (!preview_ || preview_->layer != j || preview_->key != key) {
    preview_.reset();
    Preview p;
    p.layer = j;
    p.key = key;
    p.tree = linkTree(data_->distanceMatrix(j, pending_->representation, pending_->metric), pending_->linkage);
    preview_ = std::move(p);
  }
  // The groups the plan's entry will have once the switch is applied (as updateErrorRequests
  // makes them): K does not depend on the trees here (deferSwitch).
  const int64_t kj = k(j);
  const moe::LayerPlan entry = moe::layerPlanForGroups(stats(j), kj, leafOrderedClusters(preview_->tree, kj),
                                                       plan_.strategy, moe::RouterMode::Average, plan_.alignRequest());
  preview_->groups = leafOrdered(preview_->tree, entry.groupOf());
}

void ExplorerDocument::onSwitchBuilt(const PrefetchedChoice& p) {
  takePrefetched(p);
  if (pending_ && pending_->clusteringKey() == p.key) applyPendingSwitch();
}

void ExplorerDocument::settleSwitch() {
  if (pending_) applyPendingSwitch();
}

void ExplorerDocument::applyPendingSwitch() {
  PlanState next = plan_;
  copyClustering(*pending_, next);
  cancelPendingSwitch(/*refetch=*/false);       // a build still running is not needed any more
  push(next, clusteringEditText(plan_, next));  // finds the trees built, or builds them here
  if (!plan_.sameClustering(next)) emit shownClusteringChanged(), prefetchNeighbours();  // refused
}

void ExplorerDocument::cancelPendingSwitch(bool refetch) {
  if (!pending_) return;
  switch_->cancel();
  pending_.reset();
  preview_.reset();
  if (refetch) prefetchNeighbours();
}

void ExplorerDocument::editAllocation(Allocation allocation) {
  PlanState next = plan_;
  next.allocation = allocation;
  next.layerK.clear();
  if (allocation == Allocation::Distance) {
    // Start from the height that keeps the current K on average.
    double h = 0;
    for (int j = 0; j < numMoeLayers(); ++j) h += cutHeightForK(tree(j).linkage, k(j));
    next.height = numMoeLayers() > 0 ? h / numMoeLayers() : 0;
  }
  const QString names[] = {tr("uniform"), tr("global frequency"), tr("distance threshold")};
  push(next, tr("Allocate clusters by %1").arg(names[static_cast<int>(allocation)]));
}

void ExplorerDocument::editHeight(double height) {
  PlanState next = plan_;
  next.height = height;
  next.allocation = Allocation::Distance;
  next.layerK.clear();
  push(next, tr("Cut every tree at height %1").arg(height, 0, 'g', 4));
}

void ExplorerDocument::editStrategy(moe::MergeStrategy strategy) {
  PlanState next = plan_;
  next.strategy = strategy;
  push(next, tr("Use the %1 strategy").arg(QString::fromLatin1(moe::mergeStrategyName(strategy))));
}

void ExplorerDocument::editAlignNeurons(bool align) {
  PlanState next = plan_;
  next.alignNeurons = align;
  push(next, align ? tr("Align neurons before averaging") : tr("Average without neuron alignment"));
}

void ExplorerDocument::loadPlan(const QString& path) {
  if (!hasAnalysis()) return;
  push(loadPlanFile(path.toStdString(), *data_, plan_), tr("Load plan %1").arg(path.section('/', -1)));
}

void ExplorerDocument::savePlan(const QString& path) {
  settleSwitch();
  savePlanFile(path.toStdString(), *data_, plan_, derived_);
}

}  // namespace gui
}  // namespace moe
