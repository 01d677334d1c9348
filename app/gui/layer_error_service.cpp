#include "app/gui/layer_error_service.h"

#include <algorithm>

#include <QCryptographicHash>

#include "app/gui/background_thread.h"
#include "app/gui/layer_error_worker.h"

namespace moe {
namespace gui {
namespace {

// Far more than any session produces; only a guard against unbounded growth.
constexpr int kMaxResults = 50000;

// The vectors' bytes, each after its length, so that [1][2,3] and [1,2][3] differ.
void addVector(QCryptographicHash& h, const std::vector<int64_t>& v) {
  const qint64 n = static_cast<qint64>(v.size());
  h.addData(QByteArrayView(reinterpret_cast<const char*>(&n), sizeof n));
  h.addData(QByteArrayView(reinterpret_cast<const char*>(v.data()), static_cast<qsizetype>(v.size() * sizeof(int64_t))));
}

}  // namespace

QString layerPlanKey(const moe::LayerPlan& p) {
  // Usage frequencies matter for the frequency strategy only, and are fixed per analysis and block.
  // The label vectors enter as a SHA-1 digest: spelled out they made keys of ~6 KB at 512 experts,
  // and the service hashes every wanted key (about 1000 with the curve) on each result and status
  // update on the GUI thread.
  QCryptographicHash h(QCryptographicHash::Sha1);
  addVector(h, p.labels);
  addVector(h, p.kept);
  addVector(h, p.dominant);
  return QString("%1|%2%3|%4|%5|%6")
      .arg(p.moeIndex)
      .arg(QString::fromLatin1(moe::mergeStrategyName(p.strategy)), p.needsAlignment() ? QString("+aligned") : QString())
      .arg(QString::fromLatin1(moe::routerModeName(p.router)))
      .arg(p.numGroups)
      .arg(QString::fromLatin1(h.result().toHex()));
}

LayerErrorService::LayerErrorService(QObject* parent) : QObject(parent) {
  resume_.setSingleShot(true);
  connect(&resume_, &QTimer::timeout, this, [this] {
    if (lastWanted_.isValid() && lastWanted_.elapsed() < kSettleMs)
      return resume_.start(static_cast<int>(kSettleMs - lastWanted_.elapsed()));
    *pause_ = false;  // a build waiting between layers goes on
    sendNext();
  });
  notify_.setSingleShot(true);
  connect(&notify_, &QTimer::timeout, this, [this] {
    lastNotified_.start();
    emit resultsChanged();
  });
  worker_ = new LayerErrorWorker;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &LayerErrorWorker::buildProgressed, this, [this](int generation, int done, int total) {
    if (!job_.isCurrent(generation)) return;
    if (done == 0) buildClock_.start();
    buildLayersDone_ = done;
    buildLayersTotal_ = total;
    emit statusChanged();
  });
  connect(worker_, &LayerErrorWorker::built, this, [this](int generation, qint64 tokens, double seconds) {
    if (!job_.isCurrent(generation)) return;
    tokens_ = tokens;
    buildSeconds_ = seconds;
    cacheReady_ = true;
    setStatus(Status::Scoring);
    sendNext();
  });
  connect(worker_, &LayerErrorWorker::buildFailed, this, [this](int generation, const QString& m, bool cancelled) {
    if (!job_.isCurrent(generation)) return;
    setStatus(cancelled ? Status::Cancelled : Status::Failed, m);
  });
  connect(worker_, &LayerErrorWorker::scored, this, [this](int generation, const QString& key, double t, double c) {
    if (!job_.isCurrent(generation)) return;
    if (results_.size() >= kMaxResults) results_.clear();
    results_.insert(key, ExactLayerError{t, c});
    inFlight_.clear();
    ++scoredInRun_;
    scoreSeconds_ += scoreClock_.isValid() ? scoreClock_.elapsed() / 1000.0 : 0;
    notifyResults();
    sendNext();
  });
  connect(worker_, &LayerErrorWorker::scoreFailed, this, [this](int generation, const QString& key, const QString&) {
    if (!job_.isCurrent(generation)) return;
    results_.insert(key, ExactLayerError{});  // negative: shown as unavailable, never retried
    inFlight_.clear();
    notifyResults();
    sendNext();
  });
  thread_.setObjectName("moescope-layer-errors");
  startBackgroundThread(thread_);
}

LayerErrorService::~LayerErrorService() {
  job_.cancel();
  thread_.quit();
  thread_.wait();
}

void LayerErrorService::notifyResults() {
  // Leading edge: a single edit's result shows at once; a stream of results at most every 200 ms.
  constexpr int kIntervalMs = 200;
  if (notify_.isActive()) return;
  const qint64 since = lastNotified_.isValid() ? lastNotified_.elapsed() : kIntervalMs;
  notify_.start(static_cast<int>(std::max<qint64>(0, kIntervalMs - since)));
}

double LayerErrorService::progress() const {
  if (status_ == Status::Building)
    return buildLayersTotal_ > 0 ? static_cast<double>(buildLayersDone_) / buildLayersTotal_ : -1;
  if (status_ == Status::Scoring) {
    const int left = pendingCount();
    return scoredInRun_ + left > 0 ? static_cast<double>(scoredInRun_) / (scoredInRun_ + left) : -1;
  }
  return -1;
}

double LayerErrorService::etaSeconds() const {
  if (status_ == Status::Building) {
    if (buildLayersDone_ <= 0 || !buildClock_.isValid()) return -1;
    const double perLayer = buildClock_.elapsed() / 1000.0 / buildLayersDone_;
    return perLayer * std::max(0, buildLayersTotal_ - buildLayersDone_);
  }
  if (status_ == Status::Scoring && scoredInRun_ > 0) return scoreSeconds_ / scoredInRun_ * pendingCount();
  return -1;
}

void LayerErrorService::setStatus(Status s, const QString& message) {
  if (s != Status::Scoring) scoredInRun_ = 0, scoreSeconds_ = 0;  // the next scoring run counts afresh
  if (s == Status::Building) buildLayersDone_ = 0, buildLayersTotal_ = 0;
  status_ = s;
  message_ = message;
  emit statusChanged();
}

void LayerErrorService::setAnalysis(const AnalysisDataPtr& data) {
  data_ = data;
  results_.clear();
  wanted_.clear();
  restart();
}

void LayerErrorService::restart() {
  if (cacheReady_ && status_ == Status::Cancelled) {  // scoring was stopped: the cache is still there
    setStatus(Status::Scoring);
    sendNext();
    return;
  }
  const int generation = job_.start();
  inFlight_.clear();
  cacheReady_ = false;
  tokens_ = 0;
  if (!data_) {
    setStatus(Status::NoAnalysis);
    return;
  }
  setStatus(Status::Building);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, g = generation, d = data_, c = job_.flag(), p = pause_] { w->build(g, d, c, p); },
      Qt::QueuedConnection);
}

void LayerErrorService::cancel() {
  if (status_ == Status::Building) {
    *job_.flag() = true;  // the worker stops between layers and reports Cancelled (same generation)
  } else if (status_ == Status::Scoring) {
    // A score takes milliseconds: the one in flight still lands, nothing more is sent.
    setStatus(Status::Cancelled);
  }
}

void LayerErrorService::setWanted(std::vector<KeyedEntry> entries) {
  lastWanted_.start();
  *pause_ = true;
  resume_.start(static_cast<int>(kSettleMs));
  wanted_ = std::move(entries);
  for (const auto& [key, entry] : wanted_)
    if (entry->isIdentity()) results_.insert(key, ExactLayerError{0, 0});  // an unmerged block is exact
  sendNext();
}

std::optional<ExactLayerError> LayerErrorService::result(const QString& key) const {
  auto it = results_.constFind(key);
  if (it == results_.constEnd()) return std::nullopt;
  return *it;
}

int LayerErrorService::pendingCount() const {
  int n = 0;
  for (const auto& w : wanted_) n += results_.contains(w.first) ? 0 : 1;
  return n;
}

void LayerErrorService::sendNext() {
  if ((status_ != Status::Scoring && status_ != Status::Ready) || !inFlight_.isEmpty()) return;
  // While the plan keeps changing (a cut-line drag edits it on every frame) nothing new is sent
  // until it has settled: the worker slows the GUI thread down even at a lower priority (on the
  // 2-core build machine, drag frames of 22 ms without it and 31 ms with it).
  if (lastWanted_.isValid() && lastWanted_.elapsed() < kSettleMs) {
    resume_.start(static_cast<int>(kSettleMs - lastWanted_.elapsed()));
    return;
  }
  for (const auto& [key, entry] : wanted_) {
    if (results_.contains(key)) continue;
    inFlight_ = key;
    ++scoresSent_;
    scoreClock_.start();
    if (status_ != Status::Scoring) setStatus(Status::Scoring);
    QMetaObject::invokeMethod(
        worker_, [w = worker_, g = job_.current(), key = key, entry = entry] { w->score(g, key, *entry); },
        Qt::QueuedConnection);
    return;
  }
  if (status_ != Status::Ready) setStatus(Status::Ready);
}

}  // namespace gui
}  // namespace moe
