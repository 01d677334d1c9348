// Core (ATen) headers first: Qt's `slots`/`signals` macros must not be defined while they parse.
#include "core/engine/model.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/eval/evaluate.h"
#include "core/eval/generation_preview.h"
#include "core/merge/merge.h"

#include <chrono>

#include "app/gui/measure_worker.h"
#include "app/gui/plan_alignment.h"

namespace moe {
namespace gui {
namespace {

// Progress over the three passes, and the cancel flag checked by the engine between layers.
class PassObserver : public moe::ForwardObserver {
 public:
  PassObserver(MeasureWorker* worker, const std::atomic<bool>* cancel, int passes)
      : worker_(worker), cancel_(cancel), passes_(passes) {}
  void onLayerDone(int layer, int numLayers) override {
    emit worker_->progressed(pass * numLayers + layer + 1, passes_ * numLayers);
  }
  bool cancelled() const override { return cancel_->load(); }
  int pass = 0;

 private:
  MeasureWorker* worker_;
  const std::atomic<bool>* cancel_;
  int passes_;
};

}  // namespace

void MeasureWorker::run(const MeasureRequest& r, std::shared_ptr<std::atomic<bool>> cancel) {
  try {
    const auto start = std::chrono::steady_clock::now();
    auto model = moe::Model::open(r.modelDir.toStdString(), moe::Runtime::make("cpu", "fp32"));
    moe::TokenSourceOptions src;
    src.sequences = r.sequences;
    src.length = r.length;
    const at::Tensor ids = moe::loadTokenIds(r.evalText.toStdString(), model->folder(), src);
    // REAM / "align neurons": the permutations come from the analysis' calibration tokens.
    moe::MergePlan plan = r.plan;
    alignPlanOnCalibration(plan, *model, r.calibTokens, r.calibShape, {}, cancel.get());
    PassObserver observer(this, cancel.get(), 3);
    const at::Tensor reference = moe::finalHidden(*model, ids, {}, &observer);
    if (*cancel) throw moe::Error(moe::ErrorKind::Cancelled, "measurement cancelled");
    MeasureResult out;
    const moe::EvalResult original = moe::scoreHidden(*model, reference, ids);
    out.originalPerplexity = original.perplexity;
    out.predictedTokens = original.predicted;
    std::vector<moe::MoeOverride> overrides;
    for (moe::MergeSemantics semantics : {moe::MergeSemantics::Tied, moe::MergeSemantics::Compact}) {
      ++observer.pass;
      moe::ForwardOptions options;
      options.moeOverride = moe::planOverride(plan, semantics);
      overrides.push_back(options.moeOverride);
      const moe::EvalResult e = moe::evaluate(*model, ids, options, reference, &observer);
      if (*cancel) throw moe::Error(moe::ErrorKind::Cancelled, "measurement cancelled");
      (semantics == moe::MergeSemantics::Tied ? out.tiedPerplexity : out.compactPerplexity) = e.perplexity;
      (semantics == moe::MergeSemantics::Tied ? out.tiedKl : out.compactKl) = e.meanKl;
      (semantics == moe::MergeSemantics::Tied ? out.tiedTop1 : out.compactTop1) = e.top1Agreement;
    }
    if (r.genPrompts > 0) {
      // Free-running agreement, core's rule as `compare --gen-prompts` (held-out prefixes of the
      // evaluation sequences, core's prefix and length); the original's continuations are decoded
      // once and reused for the compact variant. Cancel is checked before every decoding step.
      emit progressed(0, 0);  // the bar shows "busy": decoding steps are not layer passes
      moe::HeldOutGenerationOptions gen;
      gen.prompts = r.genPrompts;
      moe::GenerateCallbacks callbacks;
      callbacks.cancel = cancel.get();
      std::vector<std::vector<int64_t>> original;
      const moe::FreeRunningAgreement tied =
          moe::heldOutGenerationAgreement(*model, ids, overrides[0], gen, original, callbacks);
      const moe::FreeRunningAgreement compact =
          moe::heldOutGenerationAgreement(*model, ids, overrides[1], gen, original, callbacks);
      out.hasGeneration = true;
      out.tiedPrefix = tied.meanIdenticalPrefix;
      out.tiedRougeL = tied.meanRougeL;
      out.compactPrefix = compact.meanIdenticalPrefix;
      out.compactRougeL = compact.meanRougeL;
      out.genPromptsUsed = tied.prompts;
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    emit finished(out);
  } catch (const moe::Error& e) {
    emit failed(QString::fromStdString(e.what()), e.kind() == moe::ErrorKind::Cancelled);
  } catch (const std::exception& e) {
    emit failed(QString::fromStdString(e.what()), false);
  }
}

MeasureRunner::MeasureRunner(QObject* parent) : QObject(parent) {
  qRegisterMetaType<MeasureResult>();
  worker_ = new MeasureWorker;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &MeasureWorker::progressed, this, &MeasureRunner::progressed);
  connect(worker_, &MeasureWorker::finished, this, [this](const MeasureResult& r) {
    busy_ = false;
    emit finished(r);
  });
  connect(worker_, &MeasureWorker::failed, this, [this](const QString& m, bool cancelled) {
    busy_ = false;
    emit failed(m, cancelled);
  });
  thread_.setObjectName("moescope-measure");
  thread_.start();
}

MeasureRunner::~MeasureRunner() {
  if (cancel_) *cancel_ = true;
  thread_.quit();
  thread_.wait();
}

void MeasureRunner::start(const MeasureRequest& request) {
  if (busy_) return;
  busy_ = true;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, request, c = cancel_] { w->run(request, c); }, Qt::QueuedConnection);
}

void MeasureRunner::cancel() {
  if (cancel_) *cancel_ = true;
}

}  // namespace gui
}  // namespace moe
