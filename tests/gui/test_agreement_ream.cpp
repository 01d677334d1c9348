// Issue 12 in the explorer, on the bundled demo model (4 x 64 calibration tokens):
//  * the trade-off plot's y-axis selector shows measured plans' top-1 and free-running agreement,
//    checked against core's evaluate / heldOutGenerationAgreement run here on the same model and a
//    plan built here from core alone;
//  * REAM and "align neurons" chosen in the plan bar: undo, the saved plan file, and an export
//    whose experts equal core's REAM merge (reamGroups + alignPlanNeurons) built here.
// ATen (through the model loader) before any Qt header: Qt's keyword macros break its headers.
#include "core/engine/model.h"
#include "core/engine/token_source.h"
#include "core/eval/evaluate.h"
#include "core/eval/generation_preview.h"
#include "core/merge/merge.h"
#include "core/merge/neuron_alignment.h"
#include "core/merge/plan_builder.h"

#include <QCheckBox>
#include <QComboBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "app/gui/app_paths.h"
#include "app/gui/explorer_document.h"
#include "app/gui/explorer_view.h"
#include "app/gui/export_dialog.h"
#include "app/gui/main_window.h"
#include "app/gui/measure_worker.h"
#include "app/gui/plan_bar.h"
#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "app/gui/data_export.h"
#include "widgets/cluster_palette.h"
#include "widgets/dendrogram_view.h"
#include "widgets/heatmap_view.h"
#include "widgets/layer_table.h"
#include "widgets/tradeoff_plot.h"
#include "widgets/usage_bar_delegate.h"

using namespace moe::gui;

namespace {

// The explorer's default plan built from core alone: average linkage on the Euclidean distances of
// mean expert outputs, cut at K, frequency-weighted merge.
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

// REAM at K in every block, from core alone, neurons aligned on the analysis' calibration tokens.
moe::MergePlan independentReamPlan(const std::vector<moe::LayerStats>& layers, int64_t K, moe::Model& model,
                                   const moe::AnalysisInfo& info, bool align) {
  moe::MergePlan plan;
  for (int j = 0; j < static_cast<int>(layers.size()); ++j) {
    const moe::LayerStats& s = layers[static_cast<size_t>(j)];
    const moe::ReamGroups g = moe::reamGroups(s, K);
    moe::LayerPlan lp = moe::mergeLayerPlan(j, g.labels, moe::MergeStrategy::Ream, s.usageFrequency,
                                            moe::RouterMode::Average, g.centroids);
    lp.alignNeurons = align;
    plan.layers.push_back(lp);
  }
  const at::Tensor ids = at::tensor(info.tokenIds, at::kLong).reshape({info.tokenShape[0], info.tokenShape[1]});
  moe::alignPlanNeurons(plan, model, ids);
  return plan;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(b)); }

double relDiff(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kDouble), y = b.to(at::kDouble);
  return (x - y).norm().item<double>() / std::max(1e-30, y.norm().item<double>());
}

std::vector<double> values(const QCPGraph* g) {
  std::vector<double> v;
  for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) v.push_back(it->value);
  return v;
}

}  // namespace

class AgreementReamTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void axisSelectorShowsMeasuredAgreement();
  void reamAndAlignmentFromThePlanBar();
  void viewsShowTheStrategysGroups();
  void cleanupTestCase();

 private:
  MeasureResult measureNow(const MeasureRequest& r);

  QTemporaryDir tmp_;
  MainWindow* window_ = nullptr;
  ExplorerDocument* doc_ = nullptr;
};

void AgreementReamTest::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QVERIFY(tmp_.isValid());
  QVERIFY2(!demoModelDir().isEmpty(), "demo model not found");
  window_ = new MainWindow;
  window_->setQuiet(true);
  window_->resize(1500, 950);
  window_->show();
  QVERIFY(QTest::qWaitForWindowExposed(window_));
  doc_ = window_->document();
  AnalysisRequest r = demoRequest(4, 64);
  r.storePath = tmp_.filePath("demo.h5");
  QSignalSpy loaded(window_, &MainWindow::analysisLoaded);
  window_->analyse(r);
  QVERIFY(loaded.wait(180000));
  QVERIFY(doc_->hasAnalysis());
  QCOMPARE(doc_->k(0), int64_t(8));  // default plan: half of the 16 experts
}

MeasureResult AgreementReamTest::measureNow(const MeasureRequest& r) {
  ExplorerView* view = window_->explorer();
  QSignalSpy done(view->measureRunner(), &MeasureRunner::finished);
  QSignalSpy failed(view->measureRunner(), &MeasureRunner::failed);
  view->measure(r);
  if (!done.wait(180000) || failed.count() > 0) {
    qWarning("measurement failed: %s", failed.isEmpty() ? "timeout" : qPrintable(failed.front().at(0).toString()));
    return {};
  }
  return done.front().at(0).value<MeasureResult>();
}

void AgreementReamTest::axisSelectorShowsMeasuredAgreement() {
  ExplorerView* view = window_->explorer();
  moe::widgets::TradeoffPlot* plot = view->tradeoff();
  QComboBox* axis = view->tradeoffAxisCombo();
  QCOMPARE(axis->count(), 4);
  QTRY_VERIFY_WITH_TIMEOUT(plot->curvePointCount() > 0, 60000);  // the error curve (estimates built in a worker)
  // Nothing measured yet: no points on an agreement axis, and the plot says how to get them.
  axis->setCurrentIndex(ExplorerView::RougeLAxis);
  QCOMPARE(plot->curvePointCount(), 0);
  QCOMPARE(plot->measuredGraph(false)->dataCount(), 0);
  QVERIFY(plot->hintText().contains("Measure a plan"));
  axis->setCurrentIndex(ExplorerView::Top1Axis);
  QVERIFY(plot->hintText().contains("Measure a plan"));

  // The default plan (K = 8) with 3 generation prompts, then K = 4 without them.
  MeasureRequest r;
  r.evalText = demoEvalText();
  r.sequences = 3;
  r.length = 24;
  r.genPrompts = 3;
  const MeasureResult first = measureNow(r);
  QVERIFY(first.hasGeneration);
  doc_->editGlobalK(4);
  MeasureRequest plain = r;
  plain.genPrompts = 0;
  const MeasureResult second = measureNow(plain);
  QVERIFY(!second.hasGeneration);
  QVERIFY(second.predictedTokens > 0);

  // The same numbers from core alone.
  auto model = moe::Model::open(doc_->analysis().info.modelDir, moe::Runtime::make("cpu", "fp32"));
  moe::TokenSourceOptions src;
  src.sequences = 3;
  src.length = 24;
  const at::Tensor ids = moe::loadTokenIds(demoEvalText().toStdString(), model->folder(), src);
  const at::Tensor reference = moe::finalHidden(*model, ids);
  struct Expected {
    double top1[2];
    moe::FreeRunningAgreement gen[2];
  } k8{}, k4{};
  for (auto [K, out] : {std::pair{int64_t(8), &k8}, std::pair{int64_t(4), &k4}}) {
    const moe::MergePlan plan = independentUniformPlan(doc_->analysis().layers, K);
    std::vector<std::vector<int64_t>> original;
    moe::HeldOutGenerationOptions gen;
    gen.prompts = 3;
    int i = 0;
    for (moe::MergeSemantics s : {moe::MergeSemantics::Tied, moe::MergeSemantics::Compact}) {
      moe::ForwardOptions fo;
      fo.moeOverride = moe::planOverride(plan, s);
      out->top1[i] = moe::evaluate(*model, ids, fo, reference).top1Agreement;
      out->gen[i] = moe::heldOutGenerationAgreement(*model, ids, fo.moeOverride, gen, original);
      ++i;
    }
  }
  QCOMPARE(k8.gen[0].prompts, int64_t(3));
  qInfo("core, K = 8: top-1 %.4f / %.4f, ROUGE-L %.4f / %.4f, prefix %.2f / %.2f (tied / compact)", k8.top1[0],
        k8.top1[1], k8.gen[0].meanRougeL, k8.gen[1].meanRougeL, k8.gen[0].meanIdenticalPrefix,
        k8.gen[1].meanIdenticalPrefix);
  // Measured points sort by x (model size): K = 4 first.
  QCOMPARE(plot->measuredGraph(false)->dataCount(), 2);
  QCOMPARE(plot->curvePointCount(), 0);
  QCOMPARE(plot->currentGraph()->dataCount(), 0);
  QVERIFY(plot->hintText().isEmpty());
  auto tied = values(plot->measuredGraph(false)), compact = values(plot->measuredGraph(true));
  QVERIFY2(close(tied[0], 100.0 * k4.top1[0]) && close(tied[1], 100.0 * k8.top1[0]),
           qPrintable(QString("top-1 shown %1 %2, core %3 %4").arg(tied[0]).arg(tied[1]).arg(100 * k4.top1[0]).arg(100 * k8.top1[0])));
  QVERIFY(close(compact[0], 100.0 * k4.top1[1]) && close(compact[1], 100.0 * k8.top1[1]));

  // Generation axes: only the plan measured with prompts (K = 8) has a value.
  axis->setCurrentIndex(ExplorerView::RougeLAxis);
  QCOMPARE(plot->measuredGraph(false)->dataCount(), 1);
  tied = values(plot->measuredGraph(false)), compact = values(plot->measuredGraph(true));
  QVERIFY2(close(tied[0], k8.gen[0].meanRougeL),
           qPrintable(QString("ROUGE-L shown %1, core %2").arg(tied[0]).arg(k8.gen[0].meanRougeL)));
  QVERIFY(close(compact[0], k8.gen[1].meanRougeL));
  QVERIFY(plot->yAxis->label().contains("ROUGE-L"));
  axis->setCurrentIndex(ExplorerView::PrefixAxis);
  tied = values(plot->measuredGraph(false)), compact = values(plot->measuredGraph(true));
  QVERIFY2(close(tied[0], k8.gen[0].meanIdenticalPrefix),
           qPrintable(QString("prefix shown %1, core %2").arg(tied[0]).arg(k8.gen[0].meanIdenticalPrefix)));
  QVERIFY(close(compact[0], k8.gen[1].meanIdenticalPrefix));

  // Back to the error axis: the uniform curve again, no measured markers.
  axis->setCurrentIndex(ExplorerView::ErrorAxis);
  QVERIFY(plot->curvePointCount() > 0);
  QCOMPARE(plot->measuredGraph(false)->dataCount(), 0);
  QVERIFY(plot->hintText().isEmpty());
  doc_->undoStack()->undo();
}

void AgreementReamTest::reamAndAlignmentFromThePlanBar() {
  doc_->undoStack()->setIndex(0);  // the default plan, whatever the test before left
  doc_->undoStack()->clear();
  PlanBar* bar = window_->planBar();
  QVERIFY(bar);
  QComboBox* strategy = bar->strategyCombo();
  QCheckBox* align = bar->alignNeuronsBox();
  // Core's strategies less "keep", REAM among them.
  QCOMPARE(strategy->count(), static_cast<int>(moe::mergeStrategies().size()) - 1);
  const int ream = strategy->findText("Merge: REAM");
  QVERIFY(ream >= 0);
  const PlanState before = doc_->plan();
  QCOMPARE(before.strategy, moe::MergeStrategy::FrequencyWeighted);
  QVERIFY(align->isEnabled() && !align->isChecked());
  const int commands = doc_->undoStack()->index();

  // REAM: aligned by core's default; unticking is one more undoable edit.
  strategy->setCurrentIndex(ream);
  emit strategy->activated(ream);
  QCOMPARE(doc_->plan().strategy, moe::MergeStrategy::Ream);
  QVERIFY(align->isEnabled() && align->isChecked());
  align->click();
  QVERIFY(doc_->plan().alignNeurons == std::optional<bool>(false));
  QCOMPARE(doc_->undoStack()->index(), commands + 2);
  QVERIFY(!align->isChecked());
  doc_->undoStack()->undo();
  QVERIFY(!doc_->plan().alignNeurons.has_value());
  QVERIFY(align->isChecked());
  doc_->undoStack()->undo();
  QVERIFY(doc_->plan() == before);
  QCOMPARE(strategy->currentText(), QString("Merge: frequency-weighted"));
  QVERIFY(!align->isChecked());
  // Redo REAM, then tick "align" explicitly (unticked, ticked: two edits).
  doc_->undoStack()->redo();
  align->click();
  align->click();
  QVERIFY(doc_->plan().alignNeurons == std::optional<bool>(true));
  QCOMPARE(doc_->plan().strategy, moe::MergeStrategy::Ream);

  // Saved and loaded with the same settings (explorer state and the merge plan's entries).
  const QString path = tmp_.filePath("ream-plan.json");
  doc_->savePlan(path);
  {
    nlohmann::json j;
    std::ifstream(path.toStdString()) >> j;
    QCOMPARE(j["moescope_explorer"]["strategy"].get<std::string>(), std::string("ream"));
    QCOMPARE(j["moescope_explorer"]["align_neurons"].get<bool>(), true);
    const moe::MergePlan saved = moe::MergePlan::load(path.toStdString());
    for (const moe::LayerPlan& lp : saved.layers) QVERIFY(lp.strategy == moe::MergeStrategy::Ream && lp.alignNeurons);
  }
  const PlanState reamState = doc_->plan();
  doc_->editStrategy(moe::MergeStrategy::Average);
  QVERIFY(doc_->plan() != reamState);
  doc_->loadPlan(path);
  QVERIFY(doc_->plan() == reamState);
  QCOMPARE(strategy->currentIndex(), ream);
  QVERIFY(align->isChecked());

  // Export (compact, K = 8): every block's experts equal core's aligned REAM merge built here.
  auto model = moe::Model::open(doc_->analysis().info.modelDir, moe::Runtime::make("cpu", "fp32"));
  const moe::MergePlan aligned = independentReamPlan(doc_->analysis().layers, 8, *model, doc_->analysis().info, true);
  const moe::MergePlan unaligned = independentReamPlan(doc_->analysis().layers, 8, *model, doc_->analysis().info, false);
  QSignalSpy exported(window_, &MainWindow::exportFinished);
  QSignalSpy exportFailed(window_, &MainWindow::exportFailed);
  const QString folder = tmp_.filePath("ream-export");
  window_->startExport(
      makeExportRequest(*doc_, moe::ExportFormat::Compact, moe::RouterMode::Average, folder, 5'000'000'000));
  QVERIFY(exported.wait(180000));
  QCOMPARE(exportFailed.count(), 0);
  auto merged = moe::Model::open(folder.toStdString(), moe::Runtime::make("cpu", "fp32"));
  QCOMPARE(merged->arch().numExperts(), int64_t(8));
  double alignmentMatters = 0;
  for (int j = 0; j < doc_->numMoeLayers(); ++j) {
    // The demo checkpoint is bf16: the export stores the fp32 merge rounded through it.
    moe::MoeBlock want = moe::applyLayerPlan(model->moeBlock(j), aligned.layers[static_cast<size_t>(j)],
                                             moe::MergeSemantics::Compact);
    moe::MoeBlock plainMerge = moe::applyLayerPlan(model->moeBlock(j), unaligned.layers[static_cast<size_t>(j)],
                                                   moe::MergeSemantics::Compact);
    moe::roundBlockTo(want, at::kBFloat16);
    moe::roundBlockTo(plainMerge, at::kBFloat16);
    const moe::MoeBlock got = merged->moeBlock(j);
    QCOMPARE(got.gate.sizes(), want.gate.sizes());
    for (auto [g, w] : {std::pair{&got.gate, &want.gate}, std::pair{&got.down, &want.down},
                        std::pair{&got.routerWeight, &want.routerWeight}})
      QVERIFY2(relDiff(*g, *w) < 1e-4, qPrintable(QString("block %1: relative difference %2").arg(j).arg(relDiff(*g, *w))));
    alignmentMatters = std::max(alignmentMatters, relDiff(plainMerge.gate, want.gate));
  }
  qInfo("aligned vs plain REAM merge: relative difference of the gate weights up to %.4f", alignmentMatters);
  QVERIFY(alignmentMatters > 1e-2);  // the check above can tell an aligned merge from a plain one

  // The measurement worker aligns too: its tied perplexity is the aligned merge's.
  MeasureRequest r;
  r.evalText = demoEvalText();
  r.sequences = 2;
  r.length = 24;
  const MeasureResult got = measureNow(r);
  moe::TokenSourceOptions src;
  src.sequences = 2;
  src.length = 24;
  const at::Tensor ids = moe::loadTokenIds(demoEvalText().toStdString(), model->folder(), src);
  const at::Tensor reference = moe::finalHidden(*model, ids);
  moe::ForwardOptions fo;
  fo.moeOverride = moe::planOverride(aligned, moe::MergeSemantics::Tied);
  const double want = moe::evaluate(*model, ids, fo, reference).perplexity;
  QVERIFY2(close(got.tiedPerplexity, want), qPrintable(QString("measured %1, core %2").arg(got.tiedPerplexity).arg(want)));
}

void AgreementReamTest::viewsShowTheStrategysGroups() {
  // The views colour the experts by what the strategy does with them: the tree's cut for the
  // clustering merges, REAM's centroid groups for REAM (which ignores the cut), the kept experts
  // alone and the dropped ones pale for REAP pruning. Checked against core's reamGroups and REAP
  // ranking of the same block, and in the groups.json the explorer saves.
  doc_->undoStack()->setIndex(0);
  doc_->undoStack()->clear();
  ExplorerView* view = window_->explorer();
  moe::widgets::DendrogramView* tree = view->dendrogram();
  moe::widgets::HeatmapView* heatmap = view->heatmap();
  const int j = 1;
  doc_->setCurrentLayer(j);
  const moe::LayerStats& s = doc_->stats(j);
  const int64_t E = s.numExperts, K = doc_->k(j);
  QCOMPARE(K, int64_t(8));  // at most 12 groups: every group has a colour of its own
  // Two labellings are the same grouping when they put the same experts together.
  auto samePartition = [&](const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    for (int64_t x = 0; x < E; ++x)
      for (int64_t y = 0; y < E; ++y)
        if ((a[static_cast<size_t>(x)] == a[static_cast<size_t>(y)]) != (b[static_cast<size_t>(x)] == b[static_cast<size_t>(y)]))
          return false;
    return true;
  };
  auto leafColours = [&] {
    std::vector<int64_t> ids;
    std::vector<QRgb> seen;
    for (int64_t e = 0; e < E; ++e) {
      const QRgb c = tree->leafColor(e).rgb();
      const auto it = std::find(seen.begin(), seen.end(), c);
      ids.push_back(it - seen.begin());
      if (it == seen.end()) seen.push_back(c);
    }
    return ids;
  };
  auto tableGroups = [&] {  // the layer table's usage bars, in leaf order
    auto* table = view->layerTable();
    const QTableWidgetItem* item = table->item(table->rowOfMoeIndex(j), moe::widgets::LayerTable::UsageColumn);
    std::vector<int64_t> byExpert(static_cast<size_t>(E), -2);
    const QVariantList list = item->data(moe::widgets::UsageBarDelegate::ClustersRole).toList();
    for (int i = 0; i < list.size(); ++i) byExpert[static_cast<size_t>(doc_->tree(j).leafOrder[static_cast<size_t>(i)])] = list[i].toInt();
    return byExpert;
  };
  auto savedGroups = [&] {
    const QString path = tmp_.filePath("groups.json");
    saveGroupsJson(*doc_, path);
    std::ifstream in(path.toStdString());
    const nlohmann::json saved = nlohmann::json::parse(in);
    return saved.at("layers").at(j);
  };

  // The default strategy merges the tree's cut.
  for (int b = 0; b < doc_->numMoeLayers(); ++b) QVERIFY(doc_->mergeGroups(b) == doc_->clusters(b));

  // REAM.
  doc_->editStrategy(moe::MergeStrategy::Ream);
  const moe::ReamGroups ream = moe::reamGroups(s, K);
  QVERIFY(!samePartition(ream.labels, doc_->clusters(j)));  // else this block shows nothing new
  QVERIFY(samePartition(doc_->mergeGroups(j), ream.labels));
  QVERIFY(samePartition(leafColours(), ream.labels));
  QVERIFY(tableGroups() == doc_->mergeGroups(j));
  heatmap->setClusterSummary(true);
  QCOMPARE(heatmap->cellCount(), K);
  for (int64_t a = 0; a < K; ++a) {
    std::vector<int64_t> members = heatmap->summaryMembers(a), expected;
    std::sort(members.begin(), members.end());
    for (int64_t e = 0; e < E; ++e)
      if (ream.labels[static_cast<size_t>(e)] == ream.labels[static_cast<size_t>(members.front())]) expected.push_back(e);
    QVERIFY(members == expected);
  }
  heatmap->setClusterSummary(false);
  {
    const nlohmann::json layer = savedGroups();
    QCOMPARE(layer.at("groups").size(), static_cast<size_t>(K));
    QVERIFY(!layer.contains("dropped"));
    for (const auto& g : layer.at("groups"))
      for (int64_t e : g.get<std::vector<int64_t>>())
        QCOMPARE(ream.labels[static_cast<size_t>(e)], ream.labels[static_cast<size_t>(g.at(0).get<int64_t>())]);
  }

  // REAP pruning: the K experts of highest REAP score stay, each alone; the others are dropped.
  doc_->editStrategy(moe::MergeStrategy::PruneReap);
  std::vector<int64_t> byScore(static_cast<size_t>(E));
  for (int64_t e = 0; e < E; ++e) byScore[static_cast<size_t>(e)] = e;
  std::stable_sort(byScore.begin(), byScore.end(), [&](int64_t a, int64_t b) {
    return s.reapScore[static_cast<size_t>(a)] > s.reapScore[static_cast<size_t>(b)];
  });
  const std::set<int64_t> kept(byScore.begin(), byScore.begin() + K);
  std::set<int64_t> groupsSeen;
  for (int64_t e = 0; e < E; ++e) {
    const int64_t g = doc_->mergeGroups(j)[static_cast<size_t>(e)];
    QCOMPARE(g >= 0, kept.count(e) > 0);
    if (g >= 0) QVERIFY(groupsSeen.insert(g).second);  // alone in its group
    if (g < 0) QCOMPARE(tree->leafColor(e), moe::widgets::droppedColor(false));
    else QVERIFY(tree->leafColor(e) != moe::widgets::droppedColor(false));
  }
  QVERIFY(tree->colorLegend().contains(QString("pale: %1 dropped").arg(E - K)));
  QVERIFY(tableGroups() == doc_->mergeGroups(j));
  {
    const nlohmann::json layer = savedGroups();
    std::vector<int64_t> dropped;
    for (int64_t e = 0; e < E; ++e)
      if (!kept.count(e)) dropped.push_back(e);
    QVERIFY(layer.at("dropped").get<std::vector<int64_t>>() == dropped);
    QCOMPARE(layer.at("groups").size(), static_cast<size_t>(K));
  }
  // Back to the cut: the colours follow.
  doc_->undoStack()->setIndex(0);
  QVERIFY(samePartition(leafColours(), doc_->clusters(j)));
  QVERIFY(tree->colorLegend().isEmpty());
  doc_->undoStack()->clear();
  doc_->setCurrentLayer(0);
}

void AgreementReamTest::cleanupTestCase() { delete window_; }

QTEST_MAIN(AgreementReamTest)
#include "test_agreement_ream.moc"
