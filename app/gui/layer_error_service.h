#pragma once
// Owner of the exact layer errors shown by the explorer: runs the LayerErrorWorker on its own
// thread, builds the reconstruction cache once per opened analysis and scores the plan entries the
// document asks for, most urgent first. Edits only replace the wanted list; one entry is in
// flight at a time, so a burst of edits (a cut being dragged) coalesces into the entries of the
// last plan. Results are keyed by the plan entry itself (layerPlanKey), so a result that arrives
// after the plan moved on can never be shown for the new plan; it stays cached (undo is then
// instant). Results of a previous analysis are discarded by generation. Never blocks the GUI:
// progress (a fraction and the time left) is tracked here, and while many entries are scored the
// views are told at most five times a second, so that they stay responsive.
#include <QElapsedTimer>
#include <QObject>
#include <QThread>
#include <QHash>
#include <QTimer>
#include <atomic>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "app/gui/analysis_data.h"
#include "app/gui/job_generation.h"
#include "core/merge/plan.h"

namespace moe {
namespace gui {

class LayerErrorWorker;

struct ExactLayerError {
  double tied = -1;     // router kept, every expert mapped to its group's merged weights
  double compact = -1;  // K experts, averaged router rows
};

// Identity of a plan entry as far as its error goes (block, strategy, groups / kept experts, weights).
QString layerPlanKey(const moe::LayerPlan& plan);

class LayerErrorService : public QObject {
  Q_OBJECT

 public:
  enum class Status { NoAnalysis, Building, Scoring, Ready, Cancelled, Failed };

  explicit LayerErrorService(QObject* parent = nullptr);
  ~LayerErrorService() override;  // cancels and joins the thread

  // Starts building the cache of `data` (cancelling any build in progress); results of the
  // previous analysis are dropped.
  void setAnalysis(const AnalysisDataPtr& data);
  // The entries to score with their layerPlanKey, most urgent first (replaces the previous list;
  // callers keep the keys so that an edit does not re-key thousands of curve entries).
  // Shared, not copied: the wanted list (the plan's blocks and 16 uniform plans of every block) is
  // handed over again on every plan edit.
  using KeyedEntry = std::pair<QString, std::shared_ptr<const moe::LayerPlan>>;
  void setWanted(std::vector<KeyedEntry> entries);
  std::optional<ExactLayerError> result(const QString& key) const;

  Status status() const { return status_; }
  QString message() const { return message_; }  // why it failed
  int pendingCount() const;                        // wanted entries without a result
  int wantedCount() const { return static_cast<int>(wanted_.size()); }
  int scoresSent() const { return scoresSent_; }  // entries handed to the worker so far (for tests)
  qint64 tokensPerBlock() const { return tokens_; }
  double buildSeconds() const { return buildSeconds_; }
  // Building: decoder layers of the forward pass done; Scoring: entries scored since scoring
  // started, over those plus the ones still pending. In [0, 1]; negative when unknown.
  double progress() const;
  // Seconds left at the pace so far (layers per second, seconds per score); negative until
  // there is a pace to go by.
  double etaSeconds() const;

  // Stops building or scoring (entries keep their estimates); restart() resumes (or builds again).
  void cancel();
  void restart();

 signals:
  void statusChanged();
  void resultsChanged();

 private:
  void setStatus(Status s, const QString& message = QString());
  void sendNext();
  void notifyResults();  // resultsChanged now, or at the end of the current 200 ms window

  QThread thread_;
  LayerErrorWorker* worker_;
  AnalysisDataPtr data_;
  JobGeneration job_;  // the cache build's flag; scores carry its generation too
  Status status_ = Status::NoAnalysis;
  QString message_;
  std::vector<KeyedEntry> wanted_;
  QHash<QString, ExactLayerError> results_;
  QString inFlight_;  // key being scored (empty: none)
  bool cacheReady_ = false;
  qint64 tokens_ = 0;
  double buildSeconds_ = 0;
  // Progress of the current build (decoder layers) and scoring run.
  int buildLayersDone_ = 0, buildLayersTotal_ = 0;
  QElapsedTimer buildClock_;
  int scoredInRun_ = 0;
  double scoreSeconds_ = 0;  // time spent scoring in this run (sent to landed)
  QElapsedTimer scoreClock_;  // since the entry in flight was sent
  QTimer notify_;
  QElapsedTimer lastNotified_;
  static constexpr qint64 kSettleMs = 250;  // quiet time after the last plan change before scoring resumes
  QElapsedTimer lastWanted_;                 // since the last setWanted
  QTimer resume_;                            // sendNext once the plan has settled
  int scoresSent_ = 0;
  // Set while the plan is changing: the worker's forward pass (building the cache) waits too.
  std::shared_ptr<std::atomic<bool>> pause_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace gui
}  // namespace moe
