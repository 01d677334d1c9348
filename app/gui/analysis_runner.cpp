#include "app/gui/analysis_runner.h"

namespace moe {
namespace gui {

AnalysisRunner::AnalysisRunner(QObject* parent) : QObject(parent) {
  qRegisterMetaType<AnalysisRequest>();
  qRegisterMetaType<AnalysisProgressInfo>();
  qRegisterMetaType<AnalysisDataPtr>();
  worker_ = new AnalysisWorker(&cancel_);
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &AnalysisWorker::statusChanged, this, &AnalysisRunner::statusChanged);
  connect(worker_, &AnalysisWorker::progressed, this, &AnalysisRunner::progressed);
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
  cancel_ = true;
  thread_.quit();
  thread_.wait();
}

void AnalysisRunner::analyse(const AnalysisRequest& request) {
  cancel_ = false;
  busy_ = true;
  emit started();
  QMetaObject::invokeMethod(worker_, [w = worker_, request] { w->analyse(request); }, Qt::QueuedConnection);
}

void AnalysisRunner::open(const QString& storePath) {
  cancel_ = false;
  busy_ = true;
  emit started();
  QMetaObject::invokeMethod(worker_, [w = worker_, storePath] { w->open(storePath); }, Qt::QueuedConnection);
}

}  // namespace gui
}  // namespace moe
