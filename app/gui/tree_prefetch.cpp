#include "app/gui/tree_prefetch.h"

#include <map>

#include "app/gui/background_thread.h"
#include "app/gui/parallel_for.h"
#include "core/analysis/error_estimate.h"
#include "widgets/layer_metrics.h"

namespace moe {
namespace gui {

PrefetchedChoice buildChoice(const AnalysisData& data, const TreeRequest& request, const ErrorModels& models,
                             bool wantRedundancy, bool cached, const std::atomic<bool>* cancel) {
  const size_t blocks = static_cast<size_t>(data.numMoeLayers());
  const size_t modelled = models ? std::min(blocks, models->size()) : 0;
  const moe::ClusteringChoice& c = request.choice;
  std::vector<moe::LayerTree> trees(request.trees ? 0 : blocks);
  EstimateRows rows(models ? blocks : 0);
  std::vector<double> redundancy(wantRedundancy ? blocks : 0);
  parallelFor(static_cast<int>(blocks), [&](int block) {
    if (cancel && cancel->load()) return;
    const size_t j = static_cast<size_t>(block);
    moe::Matrix copy;
    const moe::Matrix& d = cached ? data.distanceMatrix(block, c.representation, c.metric)
                                  : (copy = data.distanceMatrixCopy(block, c.representation, c.metric));
    if (wantRedundancy) redundancy[j] = widgets::redundancy(d);
    if (!request.trees) trees[j] = linkTree(d, c.method);
    const moe::LayerTree& t = request.trees ? request.trees->at(j) : trees[j];
    if (j < modelled) rows[j] = moe::estimateMergeErrorByK((*models)[j], t.linkage);
    if (!cached) data.recycle(std::move(copy));
  });
  PrefetchedChoice p;
  p.key = request.key;
  p.distance = {c.representation, c.metric};
  p.trees = request.trees ? request.trees : std::make_shared<const std::vector<moe::LayerTree>>(std::move(trees));
  if (models) p.estimates = std::make_shared<const EstimateRows>(std::move(rows)), p.models = models.get();
  p.redundancy = std::move(redundancy);
  return p;
}

void TreePrefetchWorker::build(int generation, const AnalysisDataPtr& data, const ErrorModels& models,
                               const std::vector<TreeRequest>& wanted, const std::set<DistanceKey>& redundancyKnown,
                               std::shared_ptr<std::atomic<bool>> cancel) {
  // Choices are grouped by their distances, in the order the first of each group was asked for:
  // one read of a block's distances serves every linkage of it and its redundancy.
  std::vector<DistanceKey> order;
  std::map<DistanceKey, std::vector<const TreeRequest*>> groups;
  for (const TreeRequest& r : wanted) {
    const DistanceKey key{r.choice.representation, r.choice.metric};
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&r);
  }
  const size_t blocks = static_cast<size_t>(data->numMoeLayers());
  const size_t modelled = models ? std::min(blocks, models->size()) : 0;
  for (const DistanceKey& key : order) {
    const std::vector<const TreeRequest*>& members = groups[key];
    const bool wantRedundancy = !redundancyKnown.count(key);
    bool link = false;
    for (const TreeRequest* r : members) link = link || !r->trees;
    std::vector<std::vector<moe::LayerTree>> trees(members.size());
    for (size_t m = 0; m < members.size(); ++m)
      if (!members[m]->trees) trees[m].resize(blocks);
    std::vector<EstimateRows> rows(members.size(), EstimateRows(blocks));
    std::vector<double> redundancy(wantRedundancy ? blocks : 0);
    try {
      moe::Matrix d;
      for (size_t j = 0; j < blocks; ++j) {
        if (link || wantRedundancy) {
          data->recycle(std::move(d));  // the previous block's, for this read
          d = data->distanceMatrixCopy(static_cast<int>(j), key.first, key.second);
        }
        if (wantRedundancy) redundancy[j] = widgets::redundancy(d);
        for (size_t m = 0; m < members.size(); ++m) {
          if (cancel->load()) return;  // a newer plan (or the window closing) wants the thread
          if (!members[m]->trees) trees[m][j] = linkTree(d, members[m]->choice.method);
          const moe::LayerTree& t = members[m]->trees ? members[m]->trees->at(j) : trees[m][j];
          if (j < modelled) rows[m][j] = moe::estimateMergeErrorByK((*models)[j], t.linkage);
        }
      }
    } catch (const std::exception&) {
      continue;  // reported by the GUI thread's own build if the user picks this choice
    }
    for (size_t m = 0; m < members.size(); ++m) {
      PrefetchedChoice p;
      p.key = members[m]->key;
      p.distance = key;
      p.trees = members[m]->trees ? members[m]->trees
                                  : std::make_shared<const std::vector<moe::LayerTree>>(std::move(trees[m]));
      if (models) p.estimates = std::make_shared<const EstimateRows>(std::move(rows[m])), p.models = models.get();
      if (m == 0) p.redundancy = std::move(redundancy);
      emit built(generation, p);
    }
  }
  emit finished(generation);
}

TreePrefetcher::TreePrefetcher(QObject* parent) : QObject(parent), worker_(new TreePrefetchWorker) {
  qRegisterMetaType<PrefetchedChoice>();
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &TreePrefetchWorker::built, this, [this](int generation, const PrefetchedChoice& p) {
    if (job_.isCurrent(generation)) emit built(p);  // else an older plan's
  });
  connect(worker_, &TreePrefetchWorker::finished, this, [this](int generation) {
    if (!job_.isCurrent(generation)) return;
    busy_ = false;
    emit idle();
  });
  thread_.setObjectName("moescope-tree-prefetch");
  startBackgroundThread(thread_);
}

TreePrefetcher::~TreePrefetcher() {
  cancel();
  thread_.quit();
  thread_.wait();
}

void TreePrefetcher::start(const AnalysisDataPtr& data, const ErrorModels& models, std::vector<TreeRequest> wanted,
                           std::set<DistanceKey> redundancyKnown) {
  cancel();
  if (!data || wanted.empty()) return emit idle();
  const int generation = job_.start();
  busy_ = true;
  QMetaObject::invokeMethod(
      worker_,
      [w = worker_, g = generation, data, models, wanted = std::move(wanted), known = std::move(redundancyKnown),
       c = job_.flag()] { w->build(g, data, models, wanted, known, c); },
      Qt::QueuedConnection);
}

void TreePrefetcher::cancel() {
  job_.cancel();
  busy_ = false;
}

}  // namespace gui
}  // namespace moe
