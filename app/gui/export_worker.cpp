// Core (ATen) headers first: Qt's `slots`/`signals` macros must not be defined while they parse.
#include "core/analysis/fingerprint.h"
#include "core/engine/model.h"
#include "core/error.h"
#include "core/merge/export.h"
#include "core/merge/router_fit.h"
#include "core/merge/router_hooks.h"

#include "app/gui/export_worker.h"
#include "app/gui/plan_alignment.h"

namespace moe {
namespace gui {

void ExportWorker::run(const ExportRequest& r, const std::shared_ptr<std::atomic<bool>>& cancel) {
  try {
    auto model = moe::Model::open(r.modelDir.toStdString(), moe::Runtime::make("cpu", "fp32"));
    moe::ExportOptions options;
    options.fingerprint = moe::modelFingerprint(model->folder(), model->store());
    options.shardBytes = r.shardBytes;
    options.precision = r.bf16 ? moe::ExportPrecision::BF16 : moe::ExportPrecision::Source;
    options.metricsMarkdown = r.metricsMarkdown.toStdString();
    options.progress = [this](int64_t done, int64_t total) { emit progressed(done, total); };
    options.cancel = cancel.get();  // checked before every tensor
    if (*cancel) throw moe::Error(moe::ErrorKind::Cancelled, "export cancelled");
    // Neuron permutations first (as `merge`): a fitted router then sees the aligned merge.
    moe::MergePlan plan = r.plan;
    alignPlanOnCalibration(plan, *model, r.calibTokens, r.calibShape, {}, cancel.get());
    if (plan.format == moe::ExportFormat::Compact && moe::routerModesNeedCalibration(plan)) {
      if (r.calibShape.size() != 2 || r.calibTokens.empty())
        throw moe::Error(moe::ErrorKind::InvalidArgument, "fitted routers need the analysis' calibration tokens");
      const at::Tensor ids = at::tensor(r.calibTokens, at::kLong).reshape({r.calibShape[0], r.calibShape[1]});
      options.routerHook = moe::makeRouterHook(
          *model, ids, plan, {}, [this](int done, int total) { emit fittingRouters(done, total); }, cancel.get());
    }
    const moe::ExportResult res = moe::exportMergedModel(*model, plan, r.target.toStdString(), options);
    ExportSummary s;
    s.folder = QString::fromStdString(res.folder);
    s.files = static_cast<int>(res.files.size());
    s.tensorBytes = res.tensorBytes;
    s.tensors = res.numTensors;
    emit finished(s);
  } catch (const moe::Error& e) {
    emit failed(QString::fromStdString(e.what()), e.kind() == moe::ErrorKind::Cancelled);
  } catch (const std::exception& e) {
    emit failed(QString::fromStdString(e.what()), false);
  }
}

ExportRunner::ExportRunner(QObject* parent) : QObject(parent) {
  qRegisterMetaType<ExportRequest>();
  qRegisterMetaType<ExportSummary>();
  worker_ = new ExportWorker;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &ExportWorker::progressed, this, &ExportRunner::progressed);
  connect(worker_, &ExportWorker::fittingRouters, this, &ExportRunner::fittingRouters);
  connect(worker_, &ExportWorker::finished, this, [this](const ExportSummary& s) {
    busy_ = false;
    emit finished(s);
  });
  connect(worker_, &ExportWorker::failed, this, [this](const QString& m, bool cancelled) {
    busy_ = false;
    emit failed(m, cancelled);
  });
  thread_.setObjectName("moescope-export");
  thread_.start();
}

ExportRunner::~ExportRunner() {
  cancel();  // the export stops before its next tensor, so the wait below is short
  thread_.quit();
  thread_.wait();
}

void ExportRunner::cancel() {
  if (cancel_) *cancel_ = true;
}

void ExportRunner::start(const ExportRequest& request, std::shared_ptr<std::atomic<bool>> cancel) {
  cancel_ = cancel ? std::move(cancel) : std::make_shared<std::atomic<bool>>(false);
  busy_ = true;
  QMetaObject::invokeMethod(
      worker_, [w = worker_, request, c = cancel_] { w->run(request, c); }, Qt::QueuedConnection);
}

}  // namespace gui
}  // namespace moe
