#include "app/gui/switch_builder.h"

#include <exception>

namespace moe {
namespace gui {

void SwitchBuildWorker::build(int generation, const AnalysisDataPtr& data, const ErrorModels& models,
                              const TreeRequest& request, bool wantRedundancy,
                              std::shared_ptr<std::atomic<bool>> cancel) {
  try {
    PrefetchedChoice p = buildChoice(*data, request, models, wantRedundancy, /*cached=*/false, cancel.get());
    if (!cancel->load()) emit built(generation, p);  // else incomplete, and a newer switch wants it
  } catch (const std::exception& e) {
    emit failed(generation, request.key, QString::fromStdString(e.what()));
  }
}

SwitchBuilder::SwitchBuilder(QObject* parent) : QObject(parent), worker_(new SwitchBuildWorker) {
  qRegisterMetaType<PrefetchedChoice>();
  qRegisterMetaType<std::string>();
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &SwitchBuildWorker::built, this, [this](int generation, const PrefetchedChoice& p) {
    if (job_.isCurrent(generation)) emit built(p);
  });
  connect(worker_, &SwitchBuildWorker::failed, this,
          [this](int generation, const std::string& key, const QString& message) {
            if (job_.isCurrent(generation)) emit failed(key, message);
          });
  thread_.setObjectName("moescope-switch-build");
  thread_.start();
}

SwitchBuilder::~SwitchBuilder() {
  cancel();
  thread_.quit();
  thread_.wait();
}

void SwitchBuilder::start(const AnalysisDataPtr& data, const ErrorModels& models, const TreeRequest& request,
                          bool wantRedundancy) {
  const int generation = job_.start();
  QMetaObject::invokeMethod(
      worker_,
      [w = worker_, g = generation, data, models, request, wantRedundancy, c = job_.flag()] {
        w->build(g, data, models, request, wantRedundancy, c);
      },
      Qt::QueuedConnection);
}

}  // namespace gui
}  // namespace moe
