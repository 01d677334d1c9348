// Core (ATen) headers first: Qt's `slots`/`signals` macros must not be defined while they parse.
#include "core/engine/model.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/eval/generation_preview.h"
#include "core/merge/merge.h"
#include "core/merge/router_hooks.h"
#include "core/text/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "app/gui/generate_worker.h"
#include "app/gui/plan_alignment.h"

namespace moe {
namespace gui {
namespace {

moe::GenerateOptions toOptions(const GenerateRequest& r) {
  moe::GenerateOptions o;
  o.maxNewTokens = r.maxNewTokens;
  o.temperature = r.temperature;
  o.topP = r.topP;
  o.seed = r.seed;
  o.scmoe.enabled = r.scmoe;
  o.scmoe.beta = r.scmoeBeta;
  o.scmoe.alpha = r.scmoeAlpha;
  o.scmoe.weakTopK = r.weakTopK;
  o.scmoe.weakRank = r.weakRank;
  return o;
}

QString decodeRange(const moe::Tokenizer& tok, const std::vector<int64_t>& ids, size_t from, size_t to) {
  const std::vector<moe::TokenId> part(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                       ids.begin() + static_cast<std::ptrdiff_t>(to));
  // Special tokens (the end-of-text one) are left out: the panel marks a stop itself.
  return QString::fromStdString(tok.decode(part, true));
}

// The cell's text, split at `divergence` (-1: all of it is the same as the original's). Decoding
// the two parts separately keeps the split exactly at the token boundary.
GeneratedCell makeCell(const moe::Tokenizer& tok, const std::vector<int64_t>& tokens, int64_t divergence) {
  GeneratedCell c;
  c.tokens = tokens;
  c.divergence = static_cast<int>(divergence);
  const size_t split = divergence < 0 ? tokens.size() : static_cast<size_t>(divergence);
  c.same = decodeRange(tok, tokens, 0, split);
  c.diverged = decodeRange(tok, tokens, split, tokens.size());
  return c;
}

// Where `mine` first differs from `reference` within the shorter of the two (-1: nowhere), as
// generationPreview computes it once both are complete.
int64_t firstDifference(const std::vector<int64_t>& reference, const std::vector<int64_t>& mine) {
  const size_t n = std::min(reference.size(), mine.size());
  for (size_t i = 0; i < n; ++i)
    if (reference[i] != mine[i]) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace

void GenerateWorker::run(const GenerateRequest& r, std::shared_ptr<std::atomic<bool>> cancel) {
  try {
    const auto start = std::chrono::steady_clock::now();
    auto model = moe::Model::open(r.modelDir.toStdString(), moe::Runtime::make("cpu", "fp32"));
    // Resident when the weights take at most half of the free memory (as `generate --resident auto`).
    model->setResident(moe::residentFits(*model));
    const std::filesystem::path tokPath = std::filesystem::path(model->folder()) / "tokenizer.json";
    if (!std::filesystem::exists(tokPath))
      throw moe::Error(moe::ErrorKind::InvalidArgument,
                       "no tokenizer.json beside the model in " + model->folder() + ": text prompts need one");
    const moe::Tokenizer tok = moe::Tokenizer::fromFile(tokPath.string());
    std::vector<std::string> texts;
    for (const QString& p : r.prompts) texts.push_back(p.toStdString());
    const std::vector<std::vector<int64_t>> prompts = moe::tokenizePrompts(tok, texts);
    moe::GenerateOptions o = toOptions(r);
    o.stopIds = {static_cast<int64_t>(moe::endOfTextId(model->folder(), tok))};
    moe::validateGenerateRequest(*model, prompts, o);  // before a router fit runs

    // The variants of `moescope generate`: the original, the plan tied and compact.
    std::vector<moe::PreviewVariant> variants{{"original", {}}};
    moe::MergePlan plan = r.plan;
    if (r.withPlan) {
      // Neuron permutations first: a fitted router then sees the aligned merge.
      alignPlanOnCalibration(plan, *model, r.calibTokens, r.calibShape, {}, cancel.get());
      variants.push_back({"merged (tied)", moe::planOverride(plan, moe::MergeSemantics::Tied)});
      moe::CompactRouterHook hook;
      if (moe::routerModesNeedCalibration(plan)) {
        if (r.calibShape.size() != 2 || r.calibTokens.empty())
          throw moe::Error(moe::ErrorKind::InvalidArgument, "fitted routers need the analysis' calibration tokens");
        const at::Tensor ids = at::tensor(r.calibTokens, at::kLong).reshape({r.calibShape[0], r.calibShape[1]});
        hook = moe::makeCompactRouterHook(*model, ids, plan);
      }
      variants.push_back({"merged (compact)", moe::planOverride(plan, moe::MergeSemantics::Compact, hook)});
    }
    if (*cancel) throw moe::Error(moe::ErrorKind::Cancelled, "generation cancelled");
    QStringList names;
    for (const auto& v : variants) names << QString::fromStdString(v.name);
    emit started(names, static_cast<int>(prompts.size()));

    // The streamed tokens, per variant and prompt; the original's are complete before variant 1
    // starts (generationPreview runs the variants in turn), so a divergence is known as it happens.
    std::vector<std::vector<std::vector<int64_t>>> streamed(variants.size(), std::vector<std::vector<int64_t>>(prompts.size()));
    moe::PreviewCallbacks cb;
    cb.cancel = cancel.get();
    cb.onToken = [&](size_t v, size_t p, int64_t token) {
      std::vector<int64_t>& mine = streamed[v][p];
      mine.push_back(token);
      const int64_t d = v == 0 ? -1 : firstDifference(streamed[0][p], mine);
      emit cellUpdated(static_cast<int>(v), static_cast<int>(p), makeCell(tok, mine, d));
    };
    const int nv = static_cast<int>(variants.size());
    cb.onStep = [&](size_t v, int64_t done, int64_t total) {
      emit progressed(static_cast<int>(static_cast<int64_t>(v) * total + done), static_cast<int>(nv * total));
    };
    const std::vector<moe::PreviewResult> results = moe::generationPreview(*model, prompts, o, variants, cb);

    GenerateResult out;
    for (const moe::PreviewResult& pr : results) {
      GeneratedVariant gv;
      gv.name = QString::fromStdString(pr.name);
      for (size_t p = 0; p < pr.continuations.size(); ++p) {
        // The original's own divergence entries are -1 (it is compared with itself).
        GeneratedCell c = makeCell(tok, pr.continuations[p].tokens, pr.firstDivergence[p]);
        c.stopped = pr.continuations[p].stopped;
        gv.cells.push_back(std::move(c));
      }
      gv.meanIdenticalPrefix = pr.agreement.meanIdenticalPrefix;
      gv.meanRougeL = pr.agreement.meanRougeL;
      const double secs = pr.stats.prefillSeconds + pr.stats.decodeSeconds;
      gv.tokensPerSecond = secs > 0 ? static_cast<double>(pr.stats.newTokens) / secs : 0;
      out.variants.push_back(std::move(gv));
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    emit finished(out);
  } catch (const moe::Error& e) {
    emit failed(QString::fromStdString(e.what()), e.kind() == moe::ErrorKind::Cancelled);
  } catch (const std::exception& e) {
    emit failed(QString::fromStdString(e.what()), false);
  }
}

GenerateRunner::GenerateRunner(QObject* parent) : QObject(parent) {
  qRegisterMetaType<GenerateRequest>();
  qRegisterMetaType<GeneratedCell>();
  qRegisterMetaType<GenerateResult>();
  worker_ = new GenerateWorker;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &GenerateWorker::started, this, &GenerateRunner::started);
  connect(worker_, &GenerateWorker::cellUpdated, this, &GenerateRunner::cellUpdated);
  connect(worker_, &GenerateWorker::progressed, this, &GenerateRunner::progressed);
  connect(worker_, &GenerateWorker::finished, this, [this](const GenerateResult& r) {
    busy_ = false;
    emit finished(r);
  });
  connect(worker_, &GenerateWorker::failed, this, [this](const QString& m, bool cancelled) {
    busy_ = false;
    emit failed(m, cancelled);
  });
  thread_.setObjectName("moescope-generate");
  thread_.start();
}

GenerateRunner::~GenerateRunner() {
  cancel();  // the decoding stops before its next layer, so the wait below is short
  thread_.quit();
  thread_.wait();
}

void GenerateRunner::start(const GenerateRequest& request, std::shared_ptr<std::atomic<bool>> cancel) {
  if (busy_) return;
  busy_ = true;
  cancel_ = cancel ? std::move(cancel) : std::make_shared<std::atomic<bool>>(false);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, request, c = cancel_] { w->run(request, c); }, Qt::QueuedConnection);
}

void GenerateRunner::cancel() {
  if (cancel_) *cancel_ = true;
}

}  // namespace gui
}  // namespace moe
