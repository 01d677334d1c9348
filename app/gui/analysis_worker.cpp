// Core (ATen) headers first: Qt's `slots`/`signals` macros must not be defined while they parse.
#include "core/analysis/analyzer.h"
#include "core/analysis/resume.h"
#include "core/analysis/store.h"
#include "core/engine/model.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/merge/memory.h"
#include "app/gui/plan_derivation.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>

#include "app/gui/analysis_worker.h"

namespace fs = std::filesystem;

namespace moe {
namespace gui {
namespace {

// Bytes per routed expert from two memory previews: unmerged, and every block merged to one slot.
MemoryModel memoryModel(const moe::Model& model) {
  MemoryModel m;
  moe::MergePlan one;
  one.format = moe::ExportFormat::ExpertMap;
  const int64_t experts = model.config().numExperts;
  for (size_t j = 0; j < model.moeLayers().size(); ++j)
    one.layers.push_back(moe::mergeLayerPlan(static_cast<int>(j), std::vector<int64_t>(static_cast<size_t>(experts), 0),
                                             moe::MergeStrategy::Average));
  const moe::MemoryPreview p = moe::previewMemory(model, one);
  m.totalBytes = static_cast<double>(p.bytesBefore);
  for (const auto& l : p.layers) {
    m.layerBytes.push_back(static_cast<double>(l.bytesBefore));
    if (l.moeIndex >= 0)
      m.bytesPerExpert.push_back(l.experts > 1 ? static_cast<double>(l.bytesBefore - l.bytesAfter) / (l.experts - 1) : 0);
  }
  m.known = true;
  return m;
}

MemoryModel memoryModelIfKnown(const moe::Model& model) {
  try {
    return memoryModel(model);
  } catch (const std::exception&) {
    return MemoryModel{};  // memory preview unavailable for this checkpoint: the views show "-"
  }
}

using Cancelled = std::function<bool()>;

Cancelled cancelledBy(const AnalysisWorker::Cancel& cancel) {
  return [cancel] { return cancel && cancel->load(); };
}

void throwIfCancelled(const Cancelled& cancelled) {
  if (cancelled()) throw moe::Error(moe::ErrorKind::Cancelled, "cancelled");
}

// The router-logit and weight Gram matrices serve only to compute distances ([E, E] each: 250 MB
// at 512 experts x 60 blocks); where the store holds those distances they are not kept.
void dropGramsWithStoredDistances(const std::string& storePath, int moeIndex, moe::LayerStats& stats) {
  const std::set<moe::Representation> held = representationsWithStoredDistances(storePath, moeIndex);
  if (held.count(moe::Representation::RouterLogits)) stats.routerLogitGram = {};
  if (held.count(moe::Representation::Weights)) stats.weightGram = {};
}

// The distances the first plan clusters on, read here rather than on the GUI thread (the other
// representations and metrics are read when a plan first uses them).
void readFirstDistances(const AnalysisData& d, size_t fromBlock, const Cancelled& cancelled) {
  if (d.layers.empty()) return;
  const PlanState first = defaultPlan(d);
  for (size_t j = fromBlock; j < d.layers.size(); ++j) {
    throwIfCancelled(cancelled);
    try {
      d.distanceMatrix(static_cast<int>(j), first.representation, first.metric);
    } catch (const moe::Error& e) {
      if (e.kind() == moe::ErrorKind::Format) throw;  // a malformed dataset: the store is refused
      // no such representation in this store: the explorer falls back to another one
    }
  }
}

// A complete store's statistics and the first plan's distances (no memory model).
std::shared_ptr<AnalysisData> readStatistics(const moe::AnalysisStore& store, const Cancelled& cancelled) {
  auto d = std::make_shared<AnalysisData>();
  d->storePath = store.path();
  d->info = store.info();
  const auto done = store.completedLayers();
  if (done.size() != d->info.moeLayers.size())
    throw moe::Error(moe::ErrorKind::InvalidArgument,
                     store.path() + " is incomplete (" + std::to_string(done.size()) + " of " +
                         std::to_string(d->info.moeLayers.size()) + " MoE blocks analysed); run the analysis again to resume it");
  for (int j : done) {
    throwIfCancelled(cancelled);
    d->layers.push_back(store.readLayer(j));
    dropGramsWithStoredDistances(store.path(), j, d->layers.back());
  }
  readFirstDistances(*d, 0, cancelled);
  throwIfCancelled(cancelled);
  try {
    d->firstTrees = std::make_shared<const std::vector<moe::LayerTree>>(buildTrees(*d, defaultPlan(*d)));
  } catch (const moe::Error&) {
    // the default representation is not in this store: the explorer falls back to another one
  }
  return d;
}

AnalysisDataPtr readData(const moe::AnalysisStore& store, std::shared_ptr<const moe::Model> model,
                         const AnalysisWorker::Cancel& cancel) {
  // The memory model (a plan of the whole checkpoint, ~1 s for 60 blocks of 512 experts) is
  // computed on another thread while the statistics are read.
  std::future<MemoryModel> memory = AnalysisWorker::memoryModelAsync(std::move(model));
  std::shared_ptr<AnalysisData> d = readStatistics(store, cancelledBy(cancel));
  d->memory = memory.get();
  return d;
}

// Grows the partial result shown while an analysis runs: appends the blocks the store completed
// since `shown` (only the contiguous prefix, so that index = MoE block holds). Null when nothing
// new. Copies the earlier blocks rather than re-reading them: a block is read from disk once.
AnalysisDataPtr growPartial(const moe::AnalysisStore& store, const moe::Model& model, const AnalysisDataPtr& shown) {
  std::vector<int> done = store.completedLayers();
  std::sort(done.begin(), done.end());
  size_t prefix = 0;
  while (prefix < done.size() && done[prefix] == static_cast<int>(prefix)) ++prefix;
  if (prefix == 0 || (shown && static_cast<size_t>(shown->numMoeLayers()) >= prefix)) return nullptr;
  auto d = std::make_shared<AnalysisData>();
  if (shown) {
    *d = *shown;
  } else {
    d->storePath = store.path();
    d->info = store.info();
    d->memory = memoryModelIfKnown(model);
  }
  const size_t first = d->layers.size();
  for (size_t j = first; j < prefix; ++j) {
    d->layers.push_back(store.readLayer(static_cast<int>(j)));
    dropGramsWithStoredDistances(store.path(), static_cast<int>(j), d->layers.back());
  }
  readFirstDistances(*d, first, [] { return false; });
  d->pendingLayers = static_cast<int>(d->info.moeLayers.size() - prefix);
  return d;
}

}  // namespace

void AnalysisWorker::analyse(const AnalysisRequest& r, const Cancel& cancel) {
  try {
    moe::initThreads(r.threads);
    emit statusChanged(tr("Opening the model\u2026"));
    const moe::Runtime rt = moe::Runtime::make(r.device.toStdString(), r.dtype.toStdString());
    std::shared_ptr<moe::Model> model = moe::Model::open(r.modelDir.toStdString(), rt);
    emit statusChanged(tr("Reading the calibration text\u2026"));
    moe::TokenSourceOptions src;
    src.sequences = r.sequences;
    src.length = r.length;
    const at::Tensor ids = moe::loadTokenIds(r.calibration.toStdString(), model->folder(), src);
    moe::AnalysisOptions options;
    options.allTokens = r.allTokens;
    options.progressPerExpert = true;  // a block of a large model takes minutes: the bar moves per expert
    throwIfCancelled(cancelledBy(cancel));

    // The same description and resume policy as `moescope-cli analyze` (core/analysis/resume.h);
    // the store is a per-settings cache, so a conflicting or damaged one is replaced, not refused.
    const moe::AnalysisInfo info = moe::describeAnalysis(
        *model, ids, moe::analysisSettings(r.calibration.toStdString(), src, options, r.dtype.toStdString()));
    moe::OpenedAnalysisStore opened = moe::openAnalysisStoreForRun(r.storePath.toStdString(), info, false,
                                                                   moe::OnResumeConflict::StartOver);
    moe::AnalysisStore& store = opened.store;
    if (!store.isComplete()) {
      emit statusChanged(tr("Analysing %1 MoE blocks\u2026").arg(info.moeLayers.size()));
      // Per-expert events are thinned to about ten a second (layer ends always pass): the GUI
      // thread only needs what it can show.
      using Clock = std::chrono::steady_clock;
      Clock::time_point lastSent{}, lastPartial{};
      AnalysisDataPtr shown;
      auto progress = [&, this](const moe::AnalysisProgress& p) {
        const auto now = Clock::now();
        // A layer ended (its block, if any, is already in the store): show the analysed blocks.
        // The first one at once, later ones at most every 2 s (each replaces the explorer's data).
        if (p.computingLayer < 0 && p.moeDone < p.moeTotal &&
            (!shown || now - lastPartial >= std::chrono::seconds(2))) {
          try {
            if (AnalysisDataPtr next = growPartial(store, *model, shown)) {
              shown = next;
              lastPartial = now;
              emit partial(next);
            }
          } catch (const std::exception&) {
            // best effort: the final result still comes from readData()
          }
        }
        if (p.expertsTotal > 0 && p.expertsDone < p.expertsTotal && now - lastSent < std::chrono::milliseconds(100))
          return;
        lastSent = now;
        AnalysisProgressInfo i;
        i.moeDone = p.moeDone;
        i.moeTotal = p.moeTotal;
        i.layer = p.layer;
        i.numLayers = p.numLayers;
        i.tokens = p.tokens;
        i.elapsedSeconds = p.elapsedSeconds;
        i.tokensPerSecond = p.tokensPerSecond;
        i.etaSeconds = p.etaSeconds;
        i.computingLayer = p.computingLayer;
        i.expertsDone = p.expertsDone;
        i.expertsTotal = p.expertsTotal;
        emit progressed(i);
      };
      moe::runAnalysis(*model, ids, options, &store, progress, cancel.get());
    }
    emit statusChanged(tr("Reading the analysis\u2026"));
    emit finished(readData(store, model, cancel));
  } catch (const moe::Error& e) {
    emit failed(QString::fromStdString(e.what()), e.kind() == moe::ErrorKind::Cancelled);
  } catch (const std::exception& e) {
    emit failed(QString::fromStdString(e.what()), false);
  }
}

AnalysisWorker::Statistics AnalysisWorker::readStatisticsAsync(const QString& storePath, const Cancel& cancel,
                                                               const Cancel& stop) {
  return std::async(std::launch::async, [path = storePath.toStdString(), cancel, stop] {
    const moe::AnalysisStore store = moe::AnalysisStore::open(path);
    return readStatistics(store, [cancel, stop] { return (cancel && cancel->load()) || (stop && stop->load()); });
  });
}

std::future<MemoryModel> AnalysisWorker::memoryModelAsync(std::shared_ptr<const moe::Model> model) {
  if (!model) return std::async(std::launch::deferred, [] { return MemoryModel{}; });
  return std::async(std::launch::async, [model] { return memoryModelIfKnown(*model); });
}

void AnalysisWorker::open(const Cancel& cancel, std::future<MemoryModel> memory, Statistics statistics) {
  try {
    emit statusChanged(tr("Reading the analysis\u2026"));
    std::shared_ptr<AnalysisData> d = statistics.get();
    d->memory = memory.get();
    throwIfCancelled(cancelledBy(cancel));
    emit finished(d);
  } catch (const moe::Error& e) {
    emit failed(QString::fromStdString(e.what()), e.kind() == moe::ErrorKind::Cancelled);
  } catch (const std::exception& e) {
    emit failed(QString::fromStdString(e.what()), false);
  }
}

}  // namespace gui
}  // namespace moe
