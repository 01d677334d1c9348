// Core headers first (the model header brings torch, which must precede Qt).
#include "core/engine/model.h"  // torch before Qt
#include "core/analysis/freshness.h"
#include "core/analysis/store.h"
#include "core/error.h"

#include <QFileInfo>
#include <filesystem>

#include "app/gui/analysis_runner.h"
#include "app/gui/app_paths.h"

namespace moe {
namespace gui {

namespace {

// The store's own settings as a request to analyse its model again (the analysis dialog shows
// them before anything runs).
AnalysisRequest requestFor(const moe::AnalysisInfo& info) {
  AnalysisRequest r;
  r.modelDir = QString::fromStdString(info.modelDir);
  const nlohmann::json& s = info.settings;
  if (s.is_object()) {
    if (s.contains("calibration") && s["calibration"].is_string())
      r.calibration = QString::fromStdString(s["calibration"].get<std::string>());
    if (s.contains("statistic") && s["statistic"].is_string()) r.allTokens = s["statistic"] != "routed";
    if (s.contains("dtype") && s["dtype"].is_string()) r.dtype = QString::fromStdString(s["dtype"].get<std::string>());
  }
  if (info.tokenShape.size() == 2) {
    r.sequences = static_cast<int>(info.tokenShape[0]);
    r.length = static_cast<int>(info.tokenShape[1]);
  }
  if (r.calibration.isEmpty()) r.calibration = demoCalibration();
  r.storePath = cachedStorePath(r);
  return r;
}

}  // namespace

AnalysisRunner::AnalysisRunner(QObject* parent) : QObject(parent) {
  qRegisterMetaType<AnalysisRequest>();
  qRegisterMetaType<AnalysisProgressInfo>();
  qRegisterMetaType<AnalysisDataPtr>();
  worker_ = new AnalysisWorker;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &AnalysisWorker::statusChanged, this, &AnalysisRunner::statusChanged);
  connect(worker_, &AnalysisWorker::progressed, this, &AnalysisRunner::progressed);
  // A partial result of a job cancelled meanwhile is dropped: the window keeps what it showed.
  connect(worker_, &AnalysisWorker::partial, this, [this](const AnalysisDataPtr& data) {
    if (busy_ && !(cancel_ && cancel_->load())) emit partial(data);
  });
  connect(worker_, &AnalysisWorker::finished, this, [this](const AnalysisDataPtr& data) {
    busy_ = false;
    emit finished(data);
  });
  connect(worker_, &AnalysisWorker::failed, this, [this](const QString& message, bool cancelled) {
    busy_ = false;
    emit failed(message, cancelled);
  });
  thread_.setObjectName("moescope-analysis");
  thread_.start();
}

AnalysisRunner::~AnalysisRunner() {
  cancel();  // the analysis stops before its next expert, so the wait below is short
  thread_.quit();
  thread_.wait();
}

void AnalysisRunner::cancel() {
  if (cancel_) *cancel_ = true;
}

void AnalysisRunner::begin(std::shared_ptr<std::atomic<bool>> cancel) {
  cancel_ = cancel ? std::move(cancel) : std::make_shared<std::atomic<bool>>(false);
  busy_ = true;
  emit started();
}

void AnalysisRunner::analyse(const AnalysisRequest& request, std::shared_ptr<std::atomic<bool>> cancel) {
  begin(std::move(cancel));
  QMetaObject::invokeMethod(
      worker_,
      [this, w = worker_, request, c = cancel_] {
        // A cached store of a model that changed since: say why the analysis starts over (the
        // worker's resume policy replaces it).
        try {
          if (QFileInfo::exists(request.storePath))
            moe::checkStoreMatchesModel(moe::AnalysisStore::open(request.storePath.toStdString()),
                                        request.modelDir.toStdString());
        } catch (const moe::Error& e) {
          if (e.kind() == moe::ErrorKind::Stale)
            emit statusChanged(tr("The model changed since the cached analysis (%1); analysing again\u2026")
                                   .arg(QString::fromStdString(e.what())));
        } catch (const std::exception&) {
          // unreadable cache entry: the worker replaces it
        }
        w->analyse(request, c);
      },
      Qt::QueuedConnection);
}

void AnalysisRunner::open(const QString& storePath, std::shared_ptr<std::atomic<bool>> cancel) {
  begin(std::move(cancel));
  QMetaObject::invokeMethod(
      worker_,
      [this, w = worker_, storePath, c = cancel_] {
        // The statistics are read on another thread while the model opens here: at 512 experts x
        // 60 blocks each takes about a second, and opening waited for both in turn.
        const auto stop = std::make_shared<std::atomic<bool>>(false);
        AnalysisWorker::Statistics statistics = AnalysisWorker::readStatisticsAsync(storePath, c, stop);
        std::future<MemoryModel> memory;
        try {
          const moe::AnalysisStore store = moe::AnalysisStore::open(storePath.toStdString());
          try {
            // One opening of the model serves the freshness check and the worker's memory model:
            // parsing the header of a checkpoint of ~50 K tensors twice cost 0.4 s of every open
            // at 256 experts x 60 blocks.
            const std::string dir = store.info().modelDir;
            std::error_code ec;
            if (!std::filesystem::is_directory(dir, ec)) moe::checkStoreMatchesModel(store);  // its message
            std::shared_ptr<const moe::Model> model = moe::Model::open(dir, moe::Runtime::make("cpu", "fp32"));
            // Planned while the store is checked: the two together took ~1 s at 512 experts.
            memory = AnalysisWorker::memoryModelAsync(model);
            moe::checkStoreMatchesModel(store, dir, model->store());
          } catch (const moe::Error& e) {
            if (e.kind() == moe::ErrorKind::Stale) {
              stop->store(true);  // the statistics will not be shown
              statistics.wait();
              if (memory.valid()) memory.wait();
              const QString reason = QString::fromStdString(e.what());
              const AnalysisRequest again = requestFor(store.info());
              QMetaObject::invokeMethod(
                  this,
                  [this, storePath, reason, again] {
                    busy_ = false;
                    emit staleStore(storePath, reason, again);
                  },
                  Qt::QueuedConnection);
              return;
            }
            // The model folder is gone or unreadable: the statistics still open, without the
            // memory model and exact errors (the worker and the error service report that).
            if (memory.valid()) memory.wait(), memory = {};  // not of this store's model
            emit statusChanged(tr("Model not available (%1); opening the statistics only")
                                   .arg(QString::fromStdString(e.what())));
          }
        } catch (const std::exception&) {
          // not a readable store: the worker's open reports it
        }
        if (!memory.valid()) memory = AnalysisWorker::memoryModelAsync(nullptr);
        w->open(c, std::move(memory), std::move(statistics));
      },
      Qt::QueuedConnection);
}

}  // namespace gui
}  // namespace moe
