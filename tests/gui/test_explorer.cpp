// The explorer end to end on the bundled demo model (4 x 64 calibration tokens): analysis in the
// worker thread, heatmap contents, dragging the cut line, undo, linkage switching, plans,
// cancellation and the screenshot command.
// ATen (through the model loader) before any Qt header: Qt's keyword macros break its headers.
#include "core/analysis/error_estimate.h"
#include "core/engine/model.h"
#include "core/engine/token_source.h"
#include "core/eval/evaluate.h"
#include "core/eval/reconstruction.h"
#include "core/merge/merge.h"

#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QSettings>
#include <QTimer>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QImage>
#include <QMenuBar>
#include <QMouseEvent>
#include <QProcess>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <functional>
#include <set>

#include "app/gui/analysis_runner.h"
#include "app/gui/analysis_dialog.h"
#include "app/gui/app_paths.h"
#include "app/gui/data_export.h"
#include "app/gui/explorer_document.h"
#include "app/gui/explorer_view.h"
#include "app/gui/export_dialog.h"
#include "app/gui/main_window.h"
#include "app/gui/layer_error_status.h"
#include "app/gui/measure_worker.h"
#include "app/gui/plan_bar.h"
#include "app/gui/settings_dialog.h"
#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "core/error.h"
#include "core/merge/plan.h"
#include "widgets/dendrogram_view.h"
#include "widgets/heatmap_view.h"
#include "widgets/layer_metrics.h"
#include "widgets/layer_table.h"
#include "widgets/tradeoff_plot.h"
#include "widgets/usage_bar_delegate.h"
#include "widgets/usage_chart.h"

using namespace moe::gui;

namespace {

std::vector<int64_t> scipyLeaves(const moe::LayerStats& s, moe::LinkageMethod method) {
  const moe::Matrix d = s.distances(moe::Representation::ExpertOutput, "euclidean");
  return moe::leavesList(moe::linkage(moe::condensedFromSquare(d.data.data(), d.rows), method));
}

// The exact error of block j cut into K clusters, computed here from core alone: scipy-style
// average linkage on the analysis' Euclidean distances of mean expert outputs, cut at K,
// frequency-weighted merge, relative L2 error on the analysis' calibration tokens.
struct IndependentErrors {
  std::unique_ptr<moe::Model> model;
  std::optional<moe::ReconstructionCache> cache;

  explicit IndependentErrors(const moe::AnalysisInfo& info) {
    model = moe::Model::open(info.modelDir, moe::Runtime::make("cpu", "fp32"));
    const at::Tensor ids = at::tensor(info.tokenIds, at::kLong).reshape({info.tokenShape[0], info.tokenShape[1]});
    cache.emplace(moe::ReconstructionCache::build(*model, ids));
  }
  double error(const moe::LayerStats& s, int j, int64_t K, moe::MergeSemantics semantics) const {
    const moe::Matrix d = s.distances(moe::Representation::ExpertOutput, "euclidean");
    const std::vector<int64_t> labels =
        moe::cutTree(moe::linkage(moe::condensedFromSquare(d.data.data(), d.rows), moe::LinkageMethod::Average), K);
    const moe::LayerPlan lp = moe::mergeLayerPlan(j, labels, moe::MergeStrategy::FrequencyWeighted, s.usageFrequency);
    return moe::reconstructionError(*cache, model->moeBlock(j), lp, semantics);
  }
};

// The plan the explorer starts from, built here from core alone: every block cut into K clusters
// by average linkage on the Euclidean distances of mean expert outputs, frequency-weighted merge.
moe::MergePlan independentUniformPlan(const std::vector<moe::LayerStats>& layers, int64_t K) {
  moe::MergePlan plan;
  for (int j = 0; j < static_cast<int>(layers.size()); ++j) {
    const moe::LayerStats& s = layers[static_cast<size_t>(j)];
    const moe::Matrix d = s.distances(moe::Representation::ExpertOutput, "euclidean");
    const std::vector<int64_t> labels =
        moe::cutTree(moe::linkage(moe::condensedFromSquare(d.data.data(), d.rows), moe::LinkageMethod::Average), K);
    plan.layers.push_back(moe::mergeLayerPlan(j, labels, moe::MergeStrategy::FrequencyWeighted, s.usageFrequency));
  }
  return plan;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(b)); }

void sendMouse(QWidget* w, QEvent::Type type, QPointF pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
  QMouseEvent e(type, pos, w->mapToGlobal(pos), button, buttons, Qt::NoModifier);
  QApplication::sendEvent(w, &e);
}

}  // namespace

class ExplorerTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void analysisCompletes();
  void exactLayerErrorsMatchCore();
  void estimatesMatchCore();
  void neighbourChoicesArePrefetched();
  void measuresPerplexityAndKl();
  void heatmapHoldsDistancesInLeafOrder();
  void heatmapShowsCosineSimilarity();
  void distanceChoicesAreNotAllKept();
  void draggingCutLineChangesKAndColours();
  void undoRestoresPreviousK();
  void hoverAndClickSelectASubtree();
  void subtreeSelectionShowsEverywhere();
  void linkageSwitchGivesScipyLeafOrder();
  void planSavesAndLoads();
  void malformedPlansAreReportedAndExplorerKeepsWorking();
  void savedPlansFollowCoreRules();
  void exportWritesModelsTheLoaderReads();
  void fittedRouterExportDiffersFromAverage();
  void figuresExportAsPngSvgPdf();
  void droppedModelFolderOpens();
  void staleAnalysisIsRefusedAndReanalysed();
  void cancelledAnalysisKeepsDocument();
  void languageSwitchesWithoutRestart();
  void screenshotWritesNonBlankPng();
  void cleanupTestCase();

 private:
  QTemporaryDir tmp_;
  MainWindow* window_ = nullptr;
  ExplorerDocument* doc_ = nullptr;
};

void ExplorerTest::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QVERIFY(tmp_.isValid());
  QVERIFY2(!demoModelDir().isEmpty(), "demo model not found");
  window_ = new MainWindow;
  window_->setQuiet(true);
  window_->resize(1500, 950);
  window_->show();
  QVERIFY(QTest::qWaitForWindowExposed(window_));
  doc_ = window_->document();
}

void ExplorerTest::analysisCompletes() {
  AnalysisRequest r = demoRequest(4, 64);
  r.storePath = tmp_.filePath("demo.h5");
  QSignalSpy loaded(window_, &MainWindow::analysisLoaded);
  QSignalSpy failed(window_, &MainWindow::analysisFailed);
  window_->analyse(r);
  QVERIFY(window_->runner()->isBusy());
  QVERIFY(loaded.wait(180000));
  QCOMPARE(failed.count(), 0);
  QVERIFY(doc_->hasAnalysis());
  QCOMPARE(doc_->numMoeLayers(), 4);
  for (int j = 0; j < 4; ++j) QCOMPARE(doc_->stats(j).numExperts, int64_t(16));
  QCOMPARE(doc_->analysis().info.tokenShape, (std::vector<int64_t>{4, 64}));
  QVERIFY(QFileInfo::exists(r.storePath));
  QCOMPARE(doc_->k(0), int64_t(8));  // default plan: half the experts
}

void ExplorerTest::exactLayerErrorsMatchCore() {
  auto* table = window_->explorer()->layerTable();
  auto shown = [&](int j) {
    return table->item(table->rowOfMoeIndex(j), moe::widgets::LayerTable::ErrorColumn);
  };
  // The table follows the document within a redraw interval.
  auto tableExact = [&] {
    for (int j = 0; j < 4; ++j)
      if (!shown(j)->data(moe::widgets::LayerTable::ErrorExactRole).toBool()) return false;
    return true;
  };
  QTRY_VERIFY_WITH_TIMEOUT(tableExact(), 120000);
  const IndependentErrors core(doc_->analysis().info);
  std::vector<double> before;
  for (int j = 0; j < 4; ++j) {
    const double tied = core.error(doc_->stats(j), j, 8, moe::MergeSemantics::Tied);
    const double compact = core.error(doc_->stats(j), j, 8, moe::MergeSemantics::Compact);
    QVERIFY(tied > 0.01 && tied < 2);  // a real merge of 16 experts into 8 changes the output
    QVERIFY2(close(shown(j)->data(moe::widgets::LayerTable::ErrorValueRole).toDouble(), tied),
             qPrintable(QString("block %1: shown %2, core %3").arg(j).arg(shown(j)->text()).arg(tied)));
    QVERIFY(shown(j)->data(moe::widgets::LayerTable::ErrorExactRole).toBool());
    QVERIFY(!shown(j)->text().startsWith(QChar(0x2248)));  // no estimate mark
    QVERIFY(close(doc_->exactLayerError(j)->compact, compact));
    before.push_back(tied);
  }
  // Moving the cut of block 1 to K = 3: the block's value follows, the others stay.
  QElapsedTimer timer;
  timer.start();
  doc_->editLayerK(1, 3);
  QTRY_VERIFY_WITH_TIMEOUT(shown(1)->data(moe::widgets::LayerTable::ErrorExactRole).toBool(), 60000);
  qInfo("exact error of the edited block shown after %lld ms", static_cast<long long>(timer.elapsed()));
  const double k3 = core.error(doc_->stats(1), 1, 3, moe::MergeSemantics::Tied);
  QVERIFY(close(shown(1)->data(moe::widgets::LayerTable::ErrorValueRole).toDouble(), k3));
  QVERIFY(std::abs(k3 - before[1]) > 1e-3);
  QVERIFY(close(shown(0)->data(moe::widgets::LayerTable::ErrorValueRole).toDouble(), before[0]));
  // A strategy change re-scores every block (nothing cached for it yet).
  timer.restart();
  doc_->editStrategy(moe::MergeStrategy::Average);
  QTRY_VERIFY_WITH_TIMEOUT(tableExact(), 60000);
  qInfo("exact errors of all %d blocks after a strategy change: %lld ms", doc_->numMoeLayers(),
        static_cast<long long>(timer.elapsed()));
  doc_->undoStack()->undo();
  doc_->undoStack()->undo();
  QTRY_VERIFY_WITH_TIMEOUT(tableExact(), 60000);
  QVERIFY(close(shown(1)->data(moe::widgets::LayerTable::ErrorValueRole).toDouble(), before[1]));
  // The trade-off plot switches from the estimate to exact values once the whole curve is scored.
  QTRY_VERIFY_WITH_TIMEOUT(window_->explorer()->tradeoffExact(), 120000);
  QCOMPARE(window_->explorer()->errorStatus()->text(), QString("exact errors"));
  double mean = 0;
  for (int j = 0; j < 4; ++j) mean += core.error(doc_->stats(j), j, 5, moe::MergeSemantics::Tied) / 4;
  QVERIFY(close(doc_->uniformMeanError(5, true), mean));
  // While the plan keeps changing (a drag: edits every few milliseconds) the service sends no new
  // entry to its worker, which would compete with the GUI thread; it resumes once the plan has
  // been still for a moment. A strategy change makes every entry new.
  LayerErrorService* service = doc_->errorService();
  doc_->editStrategy(moe::MergeStrategy::Average);
  const int sent = service->scoresSent();
  QElapsedTimer editing;
  editing.start();
  for (int i = 0; editing.elapsed() < 400; ++i) {
    doc_->editLayerK(2, i % 2 == 0 ? 7 : 8, true);
    QCoreApplication::processEvents();
  }
  doc_->endInteractiveEdit();
  QCOMPARE(service->scoresSent(), sent);
  QTRY_VERIFY_WITH_TIMEOUT(service->scoresSent() > sent, 10000);
  QTRY_VERIFY_WITH_TIMEOUT(tableExact(), 60000);
  while (doc_->undoStack()->canUndo()) doc_->undoStack()->undo();
  doc_->undoStack()->clear();  // the plan is the default one again; later tests count commands from 0
}

void ExplorerTest::estimatesMatchCore() {
  // The proxy curve's mean over blocks of core's estimate for every K, each block's row computed
  // from its own model and tree (the document computes the rows on every core).
  QTRY_VERIFY_WITH_TIMEOUT(doc_->estimatesReady(), 30000);
  QVERIFY(doc_->numMoeLayers() >= 2);
  std::vector<std::vector<double>> rows;
  for (int j = 0; j < doc_->numMoeLayers(); ++j)
    rows.push_back(moe::estimateMergeErrorByK(moe::mergeErrorModel(doc_->stats(j)), doc_->tree(j).linkage));
  for (int64_t K : {int64_t{1}, int64_t{3}, int64_t{8}, int64_t{16}}) {
    double sum = 0;
    for (int j = 0; j < doc_->numMoeLayers(); ++j)
      sum += rows[static_cast<size_t>(j)].at(static_cast<size_t>(std::min(K, doc_->stats(j).numExperts)));
    QCOMPARE(doc_->uniformMeanError(K, false), sum / doc_->numMoeLayers());
  }
}

void ExplorerTest::neighbourChoicesArePrefetched() {
  // Every clustering choice one switch from the plan's is computed in the background before the
  // user picks it: trees, estimates and redundancy. Each is what core computes for that choice.
  QTRY_VERIFY_WITH_TIMEOUT(doc_->estimatesReady(), 30000);
  QTRY_VERIFY_WITH_TIMEOUT(!doc_->prefetchingTrees(), 30000);
  const PlanState start = doc_->plan();
  const int blocks = doc_->numMoeLayers();
  const moe::AnalysisStore store = moe::AnalysisStore::open(doc_->analysis().storePath);
  std::vector<moe::LayerStats> layers;
  for (int j = 0; j < blocks; ++j) layers.push_back(store.readLayer(j));
  std::vector<PlanState> neighbours;
  for (moe::LinkageMethod m : {moe::LinkageMethod::Complete, moe::LinkageMethod::Single, moe::LinkageMethod::Ward}) {
    PlanState s = start;
    s.linkage = m;
    neighbours.push_back(s);
  }
  for (moe::Representation r : moe::allRepresentations())
    if (r != start.representation) {
      PlanState s = start;
      s.representation = r;
      neighbours.push_back(s);
    }
  PlanState cosine = start;
  cosine.metric = "cosine";
  neighbours.push_back(cosine);
  QCOMPARE(start.metric, std::string("euclidean"));  // so that Ward is one of them
  PlanState wardCosine = cosine;
  wardCosine.linkage = moe::LinkageMethod::Ward;
  for (const PlanState& s : neighbours) {
    doc_->applyState(start);
    QTRY_VERIFY_WITH_TIMEOUT(!doc_->prefetchingTrees(), 30000);
    for (const PlanState& n : neighbours) QVERIFY(doc_->clusteringReady(n));
    QVERIFY(!doc_->clusteringReady(wardCosine));  // not a valid choice
    doc_->applyState(s);  // what an edit's redo does; the switch finds the prefetched values
    moe::ClusteringChoice choice;
    choice.representation = s.representation;
    choice.metric = s.metric;
    choice.method = s.linkage;
    double sum = 0;
    const int64_t K = 5;
    for (int j = 0; j < blocks; ++j) {
      const moe::LayerStats& full = layers[static_cast<size_t>(j)];
      const moe::LayerTree expected = moe::buildLayerTree(full, choice);
      const moe::Linkage& got = doc_->tree(j).linkage;
      QCOMPARE(got.merges.size(), expected.linkage.merges.size());
      for (size_t i = 0; i < got.merges.size(); ++i) {
        QCOMPARE(got.merges[i].a, expected.linkage.merges[i].a);
        QCOMPARE(got.merges[i].b, expected.linkage.merges[i].b);
        QCOMPARE(got.merges[i].height, expected.linkage.merges[i].height);
      }
      QCOMPARE(doc_->redundancy(j), moe::widgets::redundancy(expected.distances));
      sum += moe::estimateMergeErrorByK(moe::mergeErrorModel(full), expected.linkage).at(static_cast<size_t>(K));
    }
    QCOMPARE(doc_->uniformMeanError(K, false), sum / blocks);
  }
  doc_->applyState(start);
  QTRY_VERIFY_WITH_TIMEOUT(!doc_->prefetchingTrees(), 30000);
}

void ExplorerTest::measuresPerplexityAndKl() {
  ExplorerView* view = window_->explorer();
  MeasureRequest tiny;
  tiny.evalText = demoEvalText();
  tiny.sequences = 2;
  tiny.length = 32;
  QSignalSpy done(view->measureRunner(), &MeasureRunner::finished);
  QSignalSpy failed(view->measureRunner(), &MeasureRunner::failed);
  view->measure(tiny);
  QVERIFY(view->measureRunner()->isBusy());
  QCOMPARE(view->measureButton()->text(), QString("Cancel"));
  QVERIFY(done.wait(120000));
  QCOMPARE(failed.count(), 0);
  const MeasureResult got = done.front().at(0).value<MeasureResult>();

  // The same numbers from core alone.
  auto model = moe::Model::open(doc_->analysis().info.modelDir, moe::Runtime::make("cpu", "fp32"));
  moe::TokenSourceOptions src;
  src.sequences = 2;
  src.length = 32;
  const at::Tensor ids = moe::loadTokenIds(demoEvalText().toStdString(), model->folder(), src);
  const at::Tensor reference = moe::finalHidden(*model, ids);
  const moe::MergePlan plan = independentUniformPlan(doc_->analysis().layers, 8);
  moe::ForwardOptions tied, compact;
  tied.moeOverride = moe::planOverride(plan, moe::MergeSemantics::Tied);
  compact.moeOverride = moe::planOverride(plan, moe::MergeSemantics::Compact);
  const moe::EvalResult original = moe::scoreHidden(*model, reference, ids);
  const moe::EvalResult t = moe::evaluate(*model, ids, tied, reference);
  const moe::EvalResult c = moe::evaluate(*model, ids, compact, reference);
  QCOMPARE(got.predictedTokens, qint64(2 * 31));
  QVERIFY(close(got.originalPerplexity, original.perplexity));
  QVERIFY(close(got.tiedPerplexity, t.perplexity));
  QVERIFY(close(got.tiedKl, t.meanKl));
  QVERIFY(close(got.compactPerplexity, c.perplexity));
  QVERIFY(close(got.compactKl, c.meanKl));
  QVERIFY(t.meanKl > 0 && c.meanKl > 0);
  QVERIFY(close(got.tiedTop1, t.top1Agreement));
  QVERIFY(close(got.compactTop1, c.top1Agreement));
  QVERIFY(got.tiedTop1 > 0 && got.tiedTop1 <= 1);
  // Shown beside the plan and on the plot, until the plan changes.
  QVERIFY(view->measureResultText().contains(QString::number(t.perplexity, 'f', 2)));
  QVERIFY(view->tradeoff()->measurementText().contains(QString::number(c.perplexity, 'f', 2)));
  QVERIFY(view->tradeoff()->measurementText().contains(QString::number(100.0 * t.top1Agreement, 'f', 1) + " %"));
  doc_->editLayerK(0, 4);
  QVERIFY(view->tradeoff()->measurementText().isEmpty());
  doc_->undoStack()->undo();
  QVERIFY(!view->tradeoff()->measurementText().isEmpty());

  // Cancel: a long measurement stops with "cancelled", not an error.
  MeasureRequest big = tiny;
  big.sequences = 64;
  big.length = 256;
  view->measure(big);
  view->measureButton()->click();
  QVERIFY(failed.wait(120000));
  QCOMPARE(failed.front().at(1).toBool(), true);
  QVERIFY(!view->measureRunner()->isBusy());
  doc_->undoStack()->clear();
}

void ExplorerTest::heatmapHoldsDistancesInLeafOrder() {
  auto* heatmap = window_->explorer()->heatmap();
  for (int j : {0, 2}) {
    doc_->setCurrentLayer(j);
    const moe::Matrix d = doc_->stats(j).distances(moe::Representation::ExpertOutput, "euclidean");
    const std::vector<int64_t> leaves = scipyLeaves(doc_->stats(j), moe::LinkageMethod::Average);
    QCOMPARE(heatmap->size(), int64_t(16));
    QCOMPARE(heatmap->displayOrder(), leaves);
    for (int64_t r = 0; r < 16; ++r)
      for (int64_t c = 0; c < 16; ++c) QCOMPARE(heatmap->cellValue(r, c), d(leaves[r], leaves[c]));
    // Clusters are contiguous in leaf order, so every one of the K blocks is outlined.
    QCOMPARE(heatmap->outlinedBlocks(), static_cast<int>(doc_->k(j)));
  }
  doc_->setCurrentLayer(0);
}

void ExplorerTest::heatmapShowsCosineSimilarity() {
  auto* heatmap = window_->explorer()->heatmap();
  doc_->setCurrentLayer(1);
  const int undoCount = doc_->undoStack()->count();
  window_->explorer()->heatmapModeCombo()->setCurrentIndex(1);
  QCOMPARE(heatmap->valueLabel(), QString("cosine similarity"));
  // Cosine similarity of the mean expert outputs, computed here from the analysis.
  const moe::Matrix& m = doc_->stats(1).expertOutputMean;
  auto cosine = [&](int64_t a, int64_t b) {
    double dot = 0, na = 0, nb = 0;
    for (int64_t c = 0; c < m.cols; ++c) dot += m(a, c) * m(b, c), na += m(a, c) * m(a, c), nb += m(b, c) * m(b, c);
    return dot / std::sqrt(na * nb);
  };
  bool spread = false;
  for (int64_t r = 0; r < 16; ++r)
    for (int64_t c = 0; c < 16; ++c) {
      const double expected = cosine(heatmap->expertAt(r), heatmap->expertAt(c));
      QVERIFY2(std::abs(heatmap->cellValue(r, c) - expected) < 1e-9,
               qPrintable(QString("cell %1,%2: %3 vs %4").arg(r).arg(c).arg(heatmap->cellValue(r, c)).arg(expected)));
      spread = spread || std::abs(expected) < 0.9;
    }
  QVERIFY(spread);  // not a matrix of ones
  QVERIFY(heatmap->cellToolTip(2, 5).contains(
      QString("cosine similarity: %1").arg(cosine(heatmap->expertAt(2), heatmap->expertAt(5)), 0, 'g', 5)));
  QCOMPARE(doc_->undoStack()->count(), undoCount);  // a view switch, not a plan edit
  window_->explorer()->heatmapModeCombo()->setCurrentIndex(0);
  QCOMPARE(heatmap->valueLabel(), QString("Euclidean distance"));
  const moe::Matrix d = doc_->stats(1).distances(moe::Representation::ExpertOutput, "euclidean");
  QCOMPARE(heatmap->cellValue(2, 5), d(heatmap->expertAt(2), heatmap->expertAt(5)));
  doc_->setCurrentLayer(0);
}

void ExplorerTest::distanceChoicesAreNotAllKept() {
  // Comparing every representation under both metrics keeps the matrices of the choice in use
  // (and its cosine) only: at 512 experts x 60 blocks each choice is 120 MB.
  auto* heatmap = window_->explorer()->heatmap();
  const PlanState start = doc_->plan();
  const int blocks = doc_->numMoeLayers();
  // Core's distances from the full statistics (the explorer keeps no Gram matrices it has distances for).
  const moe::AnalysisStore store = moe::AnalysisStore::open(doc_->analysis().storePath);
  std::vector<moe::LayerStats> layers;
  for (int j = 0; j < blocks; ++j) layers.push_back(store.readLayer(j));
  const moe::LayerStats& full = layers.front();
  auto* table = window_->explorer()->layerTable();
  for (moe::Representation rep : moe::allRepresentations())
    for (const char* metric : {"cosine", "euclidean"}) {
      doc_->editRepresentation(rep);
      doc_->editMetric(metric);
      QCOMPARE(doc_->plan().representation, rep);
      QVERIFY(doc_->analysis().heldDistances() <= static_cast<size_t>(2 * blocks));
      // What the views show was read again where it had been dropped.
      const moe::Matrix d = full.distances(rep, metric);
      for (int64_t r = 0; r < 16; r += 5)
        for (int64_t c = 0; c < 16; c += 3)
          QCOMPARE(heatmap->cellValue(r, c), d(heatmap->expertAt(r), heatmap->expertAt(c)));
      // The estimates of the new trees, computed in the switch's linkage tasks (no event is
      // processed between these edits, so no background result stands in): core's, block by block.
      QVERIFY(doc_->estimatesReady());
      for (int64_t K : {int64_t{1}, int64_t{3}, int64_t{8}}) {
        double sum = 0;
        for (int j = 0; j < blocks; ++j)
          sum += moe::estimateMergeErrorByK(moe::mergeErrorModel(doc_->stats(j)), doc_->tree(j).linkage)
                     .at(static_cast<size_t>(std::min(K, doc_->stats(j).numExperts)));
        QCOMPARE(doc_->uniformMeanError(K, false), sum / blocks);
      }
      // Every block's redundancy in the layer table is that of the new choice's distances.
      for (int j = 0; j < blocks; ++j) {
        const QTableWidgetItem* item = table->item(table->rowOfMoeIndex(j), moe::widgets::LayerTable::RedundancyColumn);
        QVERIFY(item);
        QCOMPARE(item->data(moe::widgets::LayerTable::SortKeyRole).toDouble(),
                 moe::widgets::redundancy(layers[static_cast<size_t>(j)].distances(rep, metric)));
      }
    }
  // Back to the first choice through the undo stack: cached trees, distances read again.
  while (doc_->plan() != start && doc_->undoStack()->canUndo()) doc_->undoStack()->undo();
  QVERIFY(doc_->plan() == start);
  QVERIFY(doc_->analysis().heldDistances() <= static_cast<size_t>(2 * blocks));
  const moe::Matrix d = full.distances(start.representation, start.metric);
  for (int64_t r = 0; r < 16; ++r)
    for (int64_t c = 0; c < 16; ++c) QCOMPARE(heatmap->cellValue(r, c), d(heatmap->expertAt(r), heatmap->expertAt(c)));
  doc_->undoStack()->clear();
}

void ExplorerTest::draggingCutLineChangesKAndColours() {
  auto* tree = window_->explorer()->dendrogram();
  tree->replot();
  const int64_t k0 = doc_->k(0);
  const int64_t target = k0 - 3;
  std::vector<QColor> before;
  for (int64_t e = 0; e < 16; ++e) before.push_back(tree->leafColor(e));
  const int undoCount = doc_->undoStack()->count();

  const double x = tree->axisRect()->rect().center().x();
  const double y0 = tree->cutLinePixel();
  const double y1 = tree->yAxis->coordToPixel(tree->heightForK(target));
  sendMouse(tree, QEvent::MouseButtonPress, {x, y0}, Qt::LeftButton, Qt::LeftButton);
  for (int i = 1; i <= 10; ++i) {
    sendMouse(tree, QEvent::MouseMove, {x, y0 + (y1 - y0) * i / 10.0}, Qt::NoButton, Qt::LeftButton);
    // The tree and the layer's K follow every step; the linked views may follow up to 100 ms later.
    QCOMPARE(tree->k(), doc_->k(0));
    QCOMPARE(window_->explorer()->layerKSpin()->value(), static_cast<int>(doc_->k(0)));
  }
  sendMouse(tree, QEvent::MouseButtonRelease, {x, y1}, Qt::LeftButton, Qt::NoButton);

  // At the release every view shows the drag's last step, with no event processed in between.
  QCOMPARE(doc_->k(0), target);
  QCOMPARE(tree->k(), target);
  QCOMPARE(window_->explorer()->layerKSpin()->value(), static_cast<int>(target));
  QCOMPARE(window_->explorer()->heatmap()->outlinedBlocks(), static_cast<int>(target));
  std::set<QRgb> clusterColours;
  bool changed = false;
  for (int64_t e = 0; e < 16; ++e) {
    changed = changed || tree->leafColor(e) != before[static_cast<size_t>(e)];
    clusterColours.insert(tree->leafColor(e).rgb());
  }
  QVERIFY(changed);
  QCOMPARE(static_cast<int64_t>(clusterColours.size()), target);
  QCOMPARE(doc_->undoStack()->count(), undoCount + 1);  // one drag, one undo step
  QCOMPARE(doc_->plan().layerK.at(0), target);
}

void ExplorerTest::undoRestoresPreviousK() {
  const int64_t dragged = doc_->k(0);
  doc_->undoStack()->undo();
  QCOMPARE(doc_->k(0), int64_t(8));
  QCOMPARE(window_->explorer()->dendrogram()->k(), int64_t(8));
  QCOMPARE(window_->explorer()->layerKSpin()->value(), 8);
  doc_->undoStack()->redo();
  QCOMPARE(doc_->k(0), dragged);
  doc_->undoStack()->undo();
  // The global K edits are undoable too.
  window_->planBar()->kSpin()->setValue(5);
  for (int j = 0; j < 4; ++j) QCOMPARE(doc_->k(j), int64_t(5));
  doc_->undoStack()->undo();
  for (int j = 0; j < 4; ++j) QCOMPARE(doc_->k(j), int64_t(8));
}

void ExplorerTest::hoverAndClickSelectASubtree() {
  auto* tree = window_->explorer()->dendrogram();
  tree->replot();
  // The first merge of the linkage: two experts, adjacent in leaf order.
  const moe::Tree& t = tree->tree();
  const moe::TreeNode& node = t.nodes[static_cast<size_t>(t.n)];
  const double x = tree->xAxis->coordToPixel(0.5 * (t.nodes[static_cast<size_t>(node.left)].position +
                                                    t.nodes[static_cast<size_t>(node.right)].position));
  const double y = tree->yAxis->coordToPixel(node.height);
  sendMouse(tree, QEvent::MouseMove, {x, y}, Qt::NoButton, Qt::NoButton);
  QCOMPARE(tree->hoveredNode(), t.n);
  sendMouse(tree, QEvent::MouseButtonPress, {x, y}, Qt::LeftButton, Qt::LeftButton);
  sendMouse(tree, QEvent::MouseButtonRelease, {x, y}, Qt::LeftButton, Qt::NoButton);
  QCOMPARE(doc_->selection(), node.members);
  QCOMPARE(window_->explorer()->heatmap()->highlightedBlocks(), 1);
  doc_->setSelection({});
  QCOMPARE(window_->explorer()->heatmap()->highlightedBlocks(), 0);
}

void ExplorerTest::subtreeSelectionShowsEverywhere() {
  ExplorerView* view = window_->explorer();
  auto* tree = view->dendrogram();
  tree->replot();
  const moe::Tree& t = tree->tree();
  // The larger child of the root: a subtree of several experts, contiguous in leaf order.
  const moe::TreeNode& root = t.nodes.back();
  const int64_t id = t.nodes[static_cast<size_t>(root.left)].size >= t.nodes[static_cast<size_t>(root.right)].size
                         ? root.left : root.right;
  const moe::TreeNode& node = t.nodes[static_cast<size_t>(id)];
  QVERIFY(node.size >= 3);
  const double x = tree->xAxis->coordToPixel(0.5 * (t.nodes[static_cast<size_t>(node.left)].position +
                                                    t.nodes[static_cast<size_t>(node.right)].position));
  const double y = tree->yAxis->coordToPixel(node.height);
  // Hover: the subtree (and only it) is drawn highlighted.
  sendMouse(tree, QEvent::MouseMove, {x, y}, Qt::NoButton, Qt::NoButton);
  QCOMPARE(tree->hoveredNode(), id);
  for (int64_t e = 0; e < t.n; ++e) {
    const bool member = std::find(node.members.begin(), node.members.end(), e) != node.members.end();
    QCOMPARE(tree->isHoverHighlighted(e), member);
  }
  QVERIFY(!tree->isHoverHighlighted(t.nodes.back().id));
  // Click: selected in the document, the heatmap, the usage chart and the layer table.
  sendMouse(tree, QEvent::MouseButtonPress, {x, y}, Qt::LeftButton, Qt::LeftButton);
  sendMouse(tree, QEvent::MouseButtonRelease, {x, y}, Qt::LeftButton, Qt::NoButton);
  QCOMPARE(doc_->selection(), node.members);
  QCOMPARE(view->heatmap()->highlightedBlocks(), 1);
  QCOMPARE(view->usageChart()->highlightedExperts(), node.members);
  auto* table = view->layerTable();
  const auto cell = [&](int j) { return table->item(table->rowOfMoeIndex(j), moe::widgets::LayerTable::UsageColumn); };
  const QVariantList marks = cell(doc_->currentLayer())->data(moe::widgets::UsageBarDelegate::HighlightRole).toList();
  QCOMPARE(marks.size(), 16);
  const std::vector<int64_t>& leaves = doc_->tree(doc_->currentLayer()).leafOrder;
  for (int p = 0; p < 16; ++p) {
    const bool member = std::find(node.members.begin(), node.members.end(), leaves[static_cast<size_t>(p)]) !=
                        node.members.end();
    QCOMPARE(marks[p].toBool(), member);
  }
  QVERIFY(cell(doc_->currentLayer() == 0 ? 1 : 0)->data(moe::widgets::UsageBarDelegate::HighlightRole).toList().isEmpty());
  // Clicking the background clears it everywhere.
  const QRect area = tree->axisRect()->rect();
  sendMouse(tree, QEvent::MouseButtonPress, QPointF(area.right() - 2, area.top() + 2), Qt::LeftButton, Qt::LeftButton);
  sendMouse(tree, QEvent::MouseButtonRelease, QPointF(area.right() - 2, area.top() + 2), Qt::LeftButton, Qt::NoButton);
  QVERIFY(doc_->selection().empty());
  QCOMPARE(view->heatmap()->highlightedBlocks(), 0);
  QVERIFY(view->usageChart()->highlightedExperts().empty());
  QVERIFY(cell(doc_->currentLayer())->data(moe::widgets::UsageBarDelegate::HighlightRole).toList().isEmpty());
}

void ExplorerTest::linkageSwitchGivesScipyLeafOrder() {
  QComboBox* combo = window_->planBar()->linkageCombo();
  const std::pair<QString, moe::LinkageMethod> methods[] = {{"single", moe::LinkageMethod::Single},
                                                            {"complete", moe::LinkageMethod::Complete},
                                                            {"ward", moe::LinkageMethod::Ward},
                                                            {"average", moe::LinkageMethod::Average}};
  const int indices[] = {1, 2, 3, 0};  // combo order: average, single, complete, ward
  const std::vector<int64_t> averageLeaves = scipyLeaves(doc_->stats(0), moe::LinkageMethod::Average);
  bool anyDifferent = false;
  for (int i = 0; i < 4; ++i) {
    combo->setCurrentIndex(indices[i]);
    emit combo->activated(indices[i]);
    QCOMPARE(doc_->plan().linkage, methods[i].second);
    const std::vector<int64_t> expected = scipyLeaves(doc_->stats(0), methods[i].second);
    QCOMPARE(window_->explorer()->dendrogram()->leafOrder(), expected);
    QCOMPARE(window_->explorer()->heatmap()->displayOrder(), expected);
    anyDifferent = anyDifferent || expected != averageLeaves;
  }
  QVERIFY(anyDifferent);
  doc_->undoStack()->undo();  // back to ward
  QCOMPARE(doc_->plan().linkage, moe::LinkageMethod::Ward);
  QCOMPARE(window_->explorer()->dendrogram()->leafOrder(), scipyLeaves(doc_->stats(0), moe::LinkageMethod::Ward));
  QCOMPARE(combo->currentIndex(), 3);
  doc_->undoStack()->redo();
}

void ExplorerTest::planSavesAndLoads() {
  doc_->editLayerK(1, 3);
  const QString path = tmp_.filePath("plan.json");
  doc_->savePlan(path);
  const moe::MergePlan plan = moe::MergePlan::load(path.toStdString());
  QCOMPARE(QString::fromStdString(plan.modelFingerprint), QString::fromStdString(doc_->analysis().info.modelFingerprint));
  QCOMPARE(plan.layers.size(), size_t(4));
  QCOMPARE(plan.layers[1].numGroups, int64_t(3));
  QCOMPARE(plan.format, moe::ExportFormat::ExpertMap);  // K differs between layers
  doc_->editGlobalK(4);
  QCOMPARE(doc_->k(1), int64_t(4));
  doc_->loadPlan(path);
  QCOMPARE(doc_->k(1), int64_t(3));
  QCOMPARE(doc_->k(0), int64_t(8));
  doc_->undoStack()->undo();
  QCOMPARE(doc_->k(1), int64_t(4));
}

void ExplorerTest::malformedPlansAreReportedAndExplorerKeepsWorking() {
  const QString good = tmp_.filePath("good-plan.json");
  doc_->savePlan(good);
  nlohmann::json base;
  std::ifstream(good.toStdString()) >> base;
  const PlanState before = doc_->plan();
  const AnalysisDataPtr analysis = doc_->analysisPtr();
  // Each file is the saved plan with one defect in the explorer state (or no JSON at all).
  const std::vector<std::pair<QString, std::function<void(nlohmann::json&)>>> cases = {
      {"huge-key", [](nlohmann::json& j) { j["moescope_explorer"]["layer_k"] = {{"99999999999999999999", 3}}; }},
      {"word-key", [](nlohmann::json& j) { j["moescope_explorer"]["layer_k"] = {{"first", 3}}; }},
      {"negative-key", [](nlohmann::json& j) { j["moescope_explorer"]["layer_k"] = {{"-1", 3}}; }},
      {"block-beyond-model", [](nlohmann::json& j) { j["moescope_explorer"]["layer_k"] = {{"7", 3}}; }},
      {"string-k", [](nlohmann::json& j) { j["moescope_explorer"]["layer_k"] = {{"0", "3"}}; }},
      {"array-overrides", [](nlohmann::json& j) { j["moescope_explorer"]["layer_k"] = {1, 2}; }},
      {"word-global-k", [](nlohmann::json& j) { j["moescope_explorer"]["global_k"] = "eight"; }},
      {"huge-global-k", [](nlohmann::json& j) { j["moescope_explorer"]["global_k"] = 1e30; }},
      {"unsigned-global-k", [](nlohmann::json& j) { j["moescope_explorer"]["global_k"] = 18446744073709551615ull; }},
      {"number-linkage", [](nlohmann::json& j) { j["moescope_explorer"]["linkage"] = 3; }},
      {"state-not-object", [](nlohmann::json& j) { j["moescope_explorer"] = 5; }},
  };
  auto expectRefused = [&](const QString& path) {
    QSignalSpy problems(window_, &MainWindow::problemShown);
    window_->openPath(path);  // the route of File > Load Plan, recent files and drag and drop
    QCOMPARE(problems.count(), 1);
    const QString message = problems.front().at(0).toString() + " " + problems.front().at(1).toString();
    QVERIFY2(message.contains(QFileInfo(path).fileName()), qPrintable(message));
    QVERIFY(doc_->plan() == before);
    QCOMPARE(doc_->analysisPtr(), analysis);
  };
  for (const auto& [name, edit] : cases) {
    nlohmann::json j = base;
    edit(j);
    const QString path = tmp_.filePath("malformed-" + name + ".json");
    std::ofstream(path.toStdString()) << j.dump();
    expectRefused(path);
  }
  const QString notJson = tmp_.filePath("malformed-text.json");
  std::ofstream(notJson.toStdString()) << "{\"layers\": [1, 2";
  expectRefused(notJson);
  // Still working: an edit applies and undoes, and the good plan loads.
  const int64_t k = doc_->k(0);
  doc_->editGlobalK(k - 1);
  QCOMPARE(doc_->k(0), k - 1);
  doc_->undoStack()->undo();
  QCOMPARE(doc_->k(0), k);
  QSignalSpy problems(window_, &MainWindow::problemShown);
  window_->openPath(good);
  QCOMPARE(problems.count(), 0);
}

void ExplorerTest::savedPlansFollowCoreRules() {
  const int64_t K = 5;
  doc_->editGlobalK(K);
  const QString path = tmp_.filePath("rules.json");
  // F-prune keeps the K most used experts of every block.
  doc_->editStrategy(moe::MergeStrategy::PruneFrequency);
  doc_->savePlan(path);
  moe::MergePlan plan = moe::MergePlan::load(path.toStdString());
  for (int j = 0; j < 4; ++j) {
    const std::vector<double>& u = doc_->stats(j).usageFrequency;
    std::vector<int64_t> order(u.size());
    for (size_t e = 0; e < u.size(); ++e) order[e] = static_cast<int64_t>(e);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return u[a] > u[b]; });
    std::vector<int64_t> expected(order.begin(), order.begin() + K);
    std::sort(expected.begin(), expected.end());
    QCOMPARE(plan.layers[static_cast<size_t>(j)].kept, expected);
  }
  // Dominant: average-linkage groups, each represented by the member nearest its group's mean output.
  doc_->editStrategy(moe::MergeStrategy::Dominant);
  doc_->savePlan(path);
  plan = moe::MergePlan::load(path.toStdString());
  const moe::MergePlan independent = independentUniformPlan(doc_->analysis().layers, K);
  for (int j = 0; j < 4; ++j) {
    const moe::LayerPlan& lp = plan.layers[static_cast<size_t>(j)];
    auto partition = [](const moe::LayerPlan& p) {
      auto m = p.members();
      std::sort(m.begin(), m.end());
      return m;
    };
    QCOMPARE(partition(lp), partition(independent.layers[static_cast<size_t>(j)]));
    const moe::Matrix& m = doc_->stats(j).expertOutputMean;
    const auto groups = lp.members();
    for (size_t g = 0; g < groups.size(); ++g) {
      std::vector<double> centre(static_cast<size_t>(m.cols), 0.0);
      for (int64_t e : groups[g])
        for (int64_t c = 0; c < m.cols; ++c) centre[static_cast<size_t>(c)] += m(e, c) / groups[g].size();
      int64_t best = -1;
      double bestD = 1e300;
      for (int64_t e : groups[g]) {
        double d = 0;
        for (int64_t c = 0; c < m.cols; ++c) d += std::pow(m(e, c) - centre[static_cast<size_t>(c)], 2);
        if (d < bestD) bestD = d, best = e;
      }
      QCOMPARE(lp.dominant[g], best);
    }
  }
  for (int i = 0; i < 3; ++i) doc_->undoStack()->undo();
}

void ExplorerTest::exportWritesModelsTheLoaderReads() {
  const auto rt = moe::Runtime::make("cpu", "fp32");
  const at::Tensor ids = at::arange(1, 17, at::kLong).reshape({1, 16});
  doc_->editGlobalK(6);
  QSignalSpy done(window_, &MainWindow::exportFinished);
  QSignalSpy failed(window_, &MainWindow::exportFailed);
  const QString compact = tmp_.filePath("compact");
  window_->startExport(makeExportRequest(*doc_, moe::ExportFormat::Compact, moe::RouterMode::FrequencyWeighted, compact,
                                         5'000'000'000));
  QVERIFY(done.wait(120000));
  QCOMPARE(failed.count(), 0);
  QCOMPARE(done.front().at(0).value<ExportSummary>().folder, compact);
  {
    auto model = moe::Model::open(compact.toStdString(), rt);
    QCOMPARE(model->arch().numExperts(), int64_t(6));
    QVERIFY(model->forward(ids).isfinite().all().item<bool>());
  }
  // Different K per layer: only the expert-map format can hold it.
  doc_->editLayerK(2, 3);
  bool refused = false;
  try {
    makeExportRequest(*doc_, moe::ExportFormat::Compact, moe::RouterMode::Average, tmp_.filePath("refused"),
                      5'000'000'000);
  } catch (const moe::Error&) {
    refused = true;
  }
  QVERIFY(refused);
  const QString map = tmp_.filePath("map");
  window_->startExport(makeExportRequest(*doc_, moe::ExportFormat::ExpertMap, moe::RouterMode::Average, map, 4'000'000));
  QVERIFY(done.wait(120000));
  QCOMPARE(failed.count(), 0);
  {
    auto model = moe::Model::open(map.toStdString(), rt);
    QCOMPARE(model->arch().numExperts(), int64_t(16));
    QCOMPARE(model->arch().numSlots(model->moeLayers()[2]), int64_t(3));
    QCOMPARE(model->arch().numSlots(model->moeLayers()[0]), int64_t(6));
    QVERIFY(model->store().files().size() > 1);  // sharded at 4 MB
    QVERIFY(model->forward(ids).isfinite().all().item<bool>());
  }
  doc_->undoStack()->undo();
  doc_->undoStack()->undo();
}

void ExplorerTest::fittedRouterExportDiffersFromAverage() {
  doc_->editGlobalK(6);
  // The dialog offers every compact router, and none for the expert map (its router is kept).
  {
    ExportDialog dialog(*doc_);
    QCOMPARE(dialog.routerCombo()->count(), 5);
    dialog.formatCombo()->setCurrentIndex(1);
    QVERIFY(!dialog.routerCombo()->isEnabled());
    dialog.formatCombo()->setCurrentIndex(0);
    QVERIFY(dialog.routerCombo()->isEnabled());
    dialog.routerCombo()->setCurrentIndex(2);
    const ExportRequest r = dialog.request();
    QCOMPARE(r.plan.layers[0].router, moe::RouterMode::LseFit);
    QCOMPARE(r.calibShape, doc_->analysis().info.tokenShape);  // fitted on the analysis' own tokens
  }
  QSignalSpy done(window_, &MainWindow::exportFinished);
  QSignalSpy failed(window_, &MainWindow::exportFailed);
  std::vector<QString> folders;
  for (moe::RouterMode mode : {moe::RouterMode::Average, moe::RouterMode::LseFit}) {
    folders.push_back(tmp_.filePath(QString("router-%1").arg(moe::routerModeName(mode))));
    window_->startExport(makeExportRequest(*doc_, moe::ExportFormat::Compact, mode, folders.back(), 5'000'000'000));
    QVERIFY(done.wait(120000));
    QCOMPARE(failed.count(), 0);
  }
  const auto rt = moe::Runtime::make("cpu", "fp32");
  auto average = moe::Model::open(folders[0].toStdString(), rt);
  auto fitted = moe::Model::open(folders[1].toStdString(), rt);
  QCOMPARE(fitted->arch().numExperts(), int64_t(6));
  const at::Tensor ids = at::arange(1, 17, at::kLong).reshape({1, 16});
  QVERIFY(fitted->forward(ids).isfinite().all().item<bool>());
  for (int j = 0; j < 4; ++j) {
    const moe::MoeBlock a = average->moeBlock(j), f = fitted->moeBlock(j);
    QCOMPARE(f.routerWeight.sizes(), a.routerWeight.sizes());
    // Same merged experts, different router rows.
    QVERIFY(at::equal(f.gate, a.gate) && at::equal(f.down, a.down));
    QVERIFY((f.routerWeight - a.routerWeight).abs().max().item<double>() > 1e-3);
  }
  doc_->undoStack()->undo();
}

void ExplorerTest::figuresExportAsPngSvgPdf() {
  ExplorerView* view = window_->explorer();
  QCustomPlot* plots[] = {view->dendrogram(), view->heatmap(), view->usageChart(), view->tradeoff()};
  // What each format's file starts with.
  const std::pair<QString, QByteArray> formats[] = {{"png", QByteArray("\x89PNG", 4)}, {"svg", "<?xml"}, {"pdf", "%PDF"}};
  for (int i = 0; i < 4; ++i)
    for (const auto& [suffix, magic] : formats) {
      const QString path = tmp_.filePath(QString("figure%1.%2").arg(i).arg(suffix));
      saveFigure(plots[i], path);
      QFile f(path);
      QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(path));
      const QByteArray bytes = f.readAll();
      QVERIFY2(bytes.size() > 1000, qPrintable(QString("%1: %2 bytes").arg(path).arg(bytes.size())));
      QVERIFY2(bytes.startsWith(magic), qPrintable(path));
    }
  QImage png(tmp_.filePath("figure1.png"));
  QVERIFY(png.width() > 100 && png.height() > 100);
  bool threw = false;
  try {
    saveFigure(view->heatmap(), tmp_.filePath("figure.bmpx"));
  } catch (const moe::Error&) {
    threw = true;
  }
  QVERIFY(threw);  // an unknown format is refused, not written as something else
}

void ExplorerTest::droppedModelFolderOpens() {
  // A copy of the demo model in a folder of its own, so that the opened analysis can only be the drop's.
  const QString folder = tmp_.filePath("dropped-model");
  QVERIFY(QDir().mkpath(folder));
  for (const QFileInfo& f : QDir(demoModelDir()).entryInfoList(QDir::Files))
    QVERIFY(QFile::copy(f.absoluteFilePath(), folder + "/" + f.fileName()));
  QSettings().setValue("analysis/sequences", 4);
  QSettings().setValue("analysis/length", 64);
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(folder)});
  const QPoint pos(window_->width() / 2, window_->height() / 2);
  QDragEnterEvent enter(pos, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(window_, &enter);
  QVERIFY(enter.isAccepted());
  // A file that is neither a model folder, an analysis nor a plan is refused.
  QMimeData other;
  other.setUrls({QUrl::fromLocalFile(folder + "/config.json.txt")});
  QDragEnterEvent refused(pos, Qt::CopyAction, &other, Qt::LeftButton, Qt::NoModifier);
  refused.setAccepted(false);
  QApplication::sendEvent(window_, &refused);
  QVERIFY(!refused.isAccepted());
  // Dropping opens the analysis dialog for that folder; accept it as the user would.
  QString dialogModel;
  QTimer::singleShot(200, this, [&] {
    auto* dialog = qobject_cast<AnalysisDialog*>(QApplication::activeModalWidget());
    if (!dialog) return;
    dialogModel = dialog->request().modelDir;
    dialog->accept();
  });
  QSignalSpy loaded(window_, &MainWindow::analysisLoaded);
  QDropEvent drop(pos, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(window_, &drop);
  QCOMPARE(dialogModel, folder);
  QVERIFY(loaded.wait(180000));
  QCOMPARE(QDir(QString::fromStdString(doc_->analysis().info.modelDir)).canonicalPath(), QDir(folder).canonicalPath());
  QCOMPARE(doc_->analysis().info.tokenShape, (std::vector<int64_t>{4, 64}));
  QCOMPARE(doc_->numMoeLayers(), 4);
}

void ExplorerTest::staleAnalysisIsRefusedAndReanalysed() {
  // The analysis of the dropped copy of the demo is open; change one weight byte of that copy
  // (same size, same header) as a fine-tune saved over the folder would.
  const AnalysisDataPtr before = doc_->analysisPtr();
  const QString store = QString::fromStdString(before->storePath);
  const QString folder = tmp_.filePath("dropped-model");
  const QStringList shards = QDir(folder).entryList({"*.safetensors"}, QDir::Files);
  QVERIFY(!shards.isEmpty());
  {
    QFile shard(folder + "/" + shards.front());
    QVERIFY(shard.open(QIODevice::ReadWrite));
    quint64 headerBytes = 0;
    QCOMPARE(shard.read(reinterpret_cast<char*>(&headerBytes), 8), qint64(8));  // little-endian length
    const qint64 dataStart = 8 + static_cast<qint64>(headerBytes);
    const qint64 size = shard.size();
    QVERIFY(size > dataStart + 16);
    // Every 64th data byte, so that whatever the check samples sees a change.
    for (qint64 at = dataStart; at < size; at += 64) {
      shard.seek(at);
      char b = 0;
      QCOMPARE(shard.read(&b, 1), qint64(1));
      b = static_cast<char>(b ^ 0x01);
      shard.seek(at);
      QCOMPARE(shard.write(&b, 1), qint64(1));
    }
    QCOMPARE(shard.size(), size);
  }
  // Reopening the analysis (File > Open Analysis, recent files) is refused as stale.
  QSignalSpy stale(window_->runner(), &AnalysisRunner::staleStore);
  QSignalSpy problems(window_, &MainWindow::problemShown);
  QSignalSpy loaded(window_, &MainWindow::analysisLoaded);
  window_->openAnalysis(store);
  QVERIFY(stale.wait(60000));
  QCOMPARE(stale.front().at(0).toString(), store);
  QCOMPARE(problems.count(), 1);
  QVERIFY(problems.front().at(0).toString().contains("Stale"));
  QVERIFY2(problems.front().at(1).toString().contains(store), qPrintable(problems.front().at(1).toString()));
  QCOMPARE(loaded.count(), 0);
  QCOMPARE(doc_->analysisPtr(), before);
  QVERIFY(!window_->runner()->isBusy());
  // The offered re-analysis names the same model and calibration size; running it replaces the
  // stale cache entry and the result opens again without complaint.
  const AnalysisRequest again = stale.front().at(2).value<AnalysisRequest>();
  QCOMPARE(QDir(again.modelDir).canonicalPath(), QDir(folder).canonicalPath());
  QCOMPARE(again.sequences, 4);
  QCOMPARE(again.length, 64);
  AnalysisRequest r = again;
  r.storePath = store;
  window_->analyse(r);
  QVERIFY(loaded.wait(180000));
  QVERIFY(doc_->analysisPtr() != before);
  window_->openAnalysis(store);
  QVERIFY(loaded.wait(60000));
  QCOMPARE(loaded.count(), 2);
  QCOMPARE(stale.count(), 1);
}

void ExplorerTest::cancelledAnalysisKeepsDocument() {
  const AnalysisDataPtr before = doc_->analysisPtr();
  AnalysisRequest r = demoRequest(4, 64);
  r.storePath = tmp_.filePath("cancelled.h5");
  QSignalSpy failed(window_->runner(), &AnalysisRunner::failed);
  window_->analyse(r);
  window_->runner()->cancel();
  QVERIFY(failed.wait(180000));
  QCOMPARE(failed.front().at(1).toBool(), true);  // cancelled, not an error
  QVERIFY(!window_->runner()->isBusy());
  QCOMPARE(doc_->analysisPtr(), before);
}

void ExplorerTest::languageSwitchesWithoutRestart() {
  QAction* fileMenu = window_->menuBar()->actions().front();
  auto* table = window_->explorer()->layerTable();
  QCOMPARE(fileMenu->text(), QString("&File"));
  QCOMPARE(table->horizontalHeaderItem(0)->text(), QString("Layer"));
  auto choose = [&](const QString& code) {
    SettingsDialog dialog(window_);
    dialog.languageCombo()->setCurrentIndex(dialog.languageCombo()->findData(code));
    dialog.accept();
  };
  choose("zh_CN");
  // The texts of translations/moescope_zh_CN.ts, in the menu, a view and the plan toolbar.
  QTRY_COMPARE(fileMenu->text(), QString::fromUtf8("\u6587\u4ef6(&F)"));
  QCOMPARE(table->horizontalHeaderItem(0)->text(), QString::fromUtf8("\u5c42"));
  QCOMPARE(window_->planBar()->linkageCombo()->itemText(0), QString::fromUtf8("\u5e73\u5747\u8fde\u63a5"));
  choose(QString());  // back to the system language (English here)
  QTRY_COMPARE(fileMenu->text(), QString("&File"));
  QCOMPARE(window_->planBar()->linkageCombo()->itemText(0), QString("Average"));
}

void ExplorerTest::screenshotWritesNonBlankPng() {
  const QString png = tmp_.filePath("shot.png");
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("QT_QPA_PLATFORM", "offscreen");
  env.insert("XDG_CACHE_HOME", tmp_.filePath("cache"));
  env.insert("XDG_CONFIG_HOME", tmp_.filePath("config"));
  p.setProcessEnvironment(env);
  p.start(MOESCOPE_GUI_EXE, {"--screenshot", png, "--layer", "2", "--sequences", "4", "--length", "64"});
  QVERIFY(p.waitForFinished(300000));
  QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
  QImage image(png);
  QVERIFY(!image.isNull());
  QVERIFY(image.width() >= 800 && image.height() >= 600);
  std::set<QRgb> colours;
  for (int y = 0; y < image.height(); y += 7)
    for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
  QVERIFY2(colours.size() > 50, qPrintable(QString("only %1 colours").arg(colours.size())));
}

void ExplorerTest::cleanupTestCase() { delete window_; }

QTEST_MAIN(ExplorerTest)
#include "test_explorer.moc"
