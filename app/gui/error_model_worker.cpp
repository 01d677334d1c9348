#include "app/gui/error_model_worker.h"
#include "app/gui/background_thread.h"

namespace moe {
namespace gui {

void ErrorModelWorker::build(int generation, const AnalysisDataPtr& data, std::shared_ptr<std::atomic<bool>> cancel) {
  auto models = std::make_shared<std::vector<moe::MergeErrorModel>>();
  models->reserve(data->layers.size());
  for (const auto& s : data->layers) {
    if (cancel->load()) return;  // a newer analysis (or the window closing) wants the thread
    models->push_back(moe::mergeErrorModel(s));
  }
  emit built(generation, models);
}

ErrorModelBuilder::ErrorModelBuilder(QObject* parent) : QObject(parent), worker_(new ErrorModelWorker) {
  qRegisterMetaType<ErrorModels>();
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &ErrorModelWorker::built, this, [this](int generation, const ErrorModels& models) {
    if (!job_.isCurrent(generation)) return;  // an older analysis' models
    busy_ = false;
    emit ready(models);
  });
  thread_.setObjectName("moescope-error-models");
  startBackgroundThread(thread_);
}

ErrorModelBuilder::~ErrorModelBuilder() {
  cancel();
  thread_.quit();
  thread_.wait();
}

void ErrorModelBuilder::start(const AnalysisDataPtr& data) {
  const int generation = job_.start();
  busy_ = true;
  QMetaObject::invokeMethod(
      worker_, [w = worker_, g = generation, data, c = job_.flag()] { w->build(g, data, c); }, Qt::QueuedConnection);
}

void ErrorModelBuilder::cancel() {
  job_.cancel();
  busy_ = false;
}

}  // namespace gui
}  // namespace moe
