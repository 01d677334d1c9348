#pragma once
// The background half of a clustering switch on a large analysis. A switch at 512 experts x 60
// blocks reads 120 MB of distances and links 60 trees: 100-150 ms on the 2-core build machine
// when it is quiet, 250-350 ms when it is busy or the store is not in the page cache. The explorer
// shows the new choice on the current layer at once (one block) and builds every block here, on
// every core at normal priority (the user is waiting for it, unlike the prefetched neighbours).
// A newer switch cancels an older one by its own flag; older results are dropped by generation.
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>
#include <string>

#include "app/gui/job_generation.h"
#include "app/gui/tree_prefetch.h"

namespace moe {
namespace gui {

class SwitchBuildWorker : public QObject {
  Q_OBJECT

 public:
  void build(int generation, const moe::gui::AnalysisDataPtr& data, const moe::gui::ErrorModels& models,
             const moe::gui::TreeRequest& request, bool wantRedundancy, std::shared_ptr<std::atomic<bool>> cancel);

 signals:
  void built(int generation, const moe::gui::PrefetchedChoice& choice);
  void failed(int generation, const std::string& key, const QString& message);
};

// Owns the thread; start() never waits, the destructor cancels and joins.
class SwitchBuilder : public QObject {
  Q_OBJECT

 public:
  explicit SwitchBuilder(QObject* parent = nullptr);
  ~SwitchBuilder() override;
  // Builds `request`'s trees (and estimates with `models`, redundancy when wanted) for every block,
  // cancelling a build in progress.
  void start(const AnalysisDataPtr& data, const ErrorModels& models, const TreeRequest& request, bool wantRedundancy);
  void cancel() { job_.cancel(); }

 signals:
  void built(const moe::gui::PrefetchedChoice& choice);
  void failed(const std::string& key, const QString& message);  // malformed distances

 private:
  QThread thread_;
  SwitchBuildWorker* worker_;
  JobGeneration job_;
};

}  // namespace gui
}  // namespace moe
