// Issue 11: a clustering switch on a large analysis is shown on the current layer at once and
// applied to the plan when every block's tree is built in the background. A hand-made analysis of
// 16 blocks x 256 experts (at the document's threshold) with random mean outputs; the expected
// trees are core's linkage of core's pdist of those outputs, computed here.
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <memory>
#include <random>
#include <set>

#include "app/gui/analysis_data.h"
#include "app/gui/explorer_document.h"
#include "app/gui/explorer_view.h"
#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "widgets/dendrogram_view.h"

using namespace moe::gui;

namespace {

constexpr int64_t kHidden = 4;

AnalysisDataPtr handMadeAnalysis(int blocks, int64_t experts) {
  auto d = std::make_shared<AnalysisData>();
  d->info.numLayers = blocks;
  d->info.numExperts = experts;
  d->info.topK = 8;
  d->info.hidden = kHidden;
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0.1, 1.0);
  for (int j = 0; j < blocks; ++j) {
    d->info.moeLayers.push_back(j);
    moe::LayerStats s;
    s.moeIndex = j;
    s.layer = j;
    s.numExperts = experts;
    s.topK = 8;
    s.hidden = kHidden;
    s.tokens = 64;
    double total = 0;
    for (int64_t e = 0; e < experts; ++e) total += s.usageFrequency.emplace_back(u(rng));
    for (double& f : s.usageFrequency) f /= total;
    s.reapScore = s.usageFrequency;
    s.expertOutputMean = moe::Matrix(experts, kHidden);
    for (double& v : s.expertOutputMean.data) v = u(rng);
    d->layers.push_back(std::move(s));
  }
  return d;
}

// Core's tree of block j's mean outputs, from core's own pdist.
std::vector<int64_t> expectedLeaves(const AnalysisData& data, int j, moe::LinkageMethod method, const char* metric) {
  const moe::LayerStats& s = data.layers.at(static_cast<size_t>(j));
  const moe::CondensedMatrix d =
      moe::pdist(s.expertOutputMean.data.data(), s.numExperts, kHidden, moe::parseDistanceMetric(metric));
  return moe::leavesList(moe::linkage(d, method));
}

size_t distinctGroups(const std::vector<int64_t>& groups) { return std::set<int64_t>(groups.begin(), groups.end()).size(); }

}  // namespace

class DeferredSwitchTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    data_ = handMadeAnalysis(16, 256);
    double entries = 0;
    for (const auto& l : data_->layers) entries += static_cast<double>(l.numExperts) * l.numExperts;
    QVERIFY(entries >= ExplorerDocument::kDeferredSwitchEntries);  // the size this test is about
    doc_ = std::make_unique<ExplorerDocument>();
    view_ = std::make_unique<ExplorerView>(doc_.get());
    view_->resize(1200, 800);
    view_->show();
  }

  // Each test starts from a fresh analysis and makes its switches before the event loop runs, so
  // that no background result (the prefetched neighbours) can be there yet.
  void init() {
    doc_->setAnalysis(data_);
    doc_->setCurrentLayer(5);
  }

  void switchShowsTheCurrentLayerFirst() {
    const int before = doc_->undoStack()->count();
    doc_->editLinkage(moe::LinkageMethod::Complete);
    QVERIFY(doc_->switchPending());
    // The plan keeps the previous choice until every block's tree is built...
    QCOMPARE(doc_->plan().linkage, moe::LinkageMethod::Average);
    QCOMPARE(doc_->tree(5).leafOrder, expectedLeaves(*data_, 5, moe::LinkageMethod::Average, "euclidean"));
    QCOMPARE(doc_->undoStack()->count(), before);
    // ...while the current layer shows the new one, drawn by the dendrogram, cut at the plan's K.
    QCOMPARE(doc_->shownClustering().linkage, moe::LinkageMethod::Complete);
    const auto complete5 = expectedLeaves(*data_, 5, moe::LinkageMethod::Complete, "euclidean");
    QVERIFY(complete5 != expectedLeaves(*data_, 5, moe::LinkageMethod::Average, "euclidean"));
    QCOMPARE(doc_->shownTree(5).leafOrder, complete5);
    QCOMPARE(view_->dendrogram()->leafOrder(), complete5);
    QCOMPARE(static_cast<int64_t>(distinctGroups(doc_->shownGroups(5))), doc_->k(5));
    QCOMPARE(view_->dendrogram()->k(), doc_->k(5));
    // Other layers show the plan's trees until then.
    QCOMPARE(doc_->shownTree(6).leafOrder, doc_->tree(6).leafOrder);

    QTRY_VERIFY_WITH_TIMEOUT(!doc_->switchPending(), 20000);
    QCOMPARE(doc_->plan().linkage, moe::LinkageMethod::Complete);
    for (int j = 0; j < doc_->numMoeLayers(); ++j)
      QCOMPARE(doc_->tree(j).leafOrder, expectedLeaves(*data_, j, moe::LinkageMethod::Complete, "euclidean"));
    QCOMPARE(view_->dendrogram()->leafOrder(), complete5);
    QCOMPARE(doc_->undoStack()->count(), before + 1);  // one undoable edit
    doc_->undoStack()->undo();
    QCOMPARE(doc_->plan().linkage, moe::LinkageMethod::Average);
    QCOMPARE(view_->dendrogram()->leafOrder(), expectedLeaves(*data_, 5, moe::LinkageMethod::Average, "euclidean"));
  }

  void switchesMadeMeanwhileCompose() {
    const int before = doc_->undoStack()->count();
    doc_->editLinkage(moe::LinkageMethod::Single);
    doc_->editMetric("cosine");
    QVERIFY(doc_->switchPending());
    QCOMPARE(doc_->shownClustering().linkage, moe::LinkageMethod::Single);
    QCOMPARE(doc_->shownClustering().metric, std::string("cosine"));
    QCOMPARE(view_->dendrogram()->leafOrder(), expectedLeaves(*data_, 5, moe::LinkageMethod::Single, "cosine"));
    // Ward is not a choice on cosine distances: refused, the pending switch stays.
    QSignalSpy rejected(doc_.get(), &ExplorerDocument::editRejected);
    doc_->editLinkage(moe::LinkageMethod::Ward);
    QCOMPARE(rejected.count(), 1);
    QCOMPARE(doc_->shownClustering().linkage, moe::LinkageMethod::Single);

    QTRY_VERIFY_WITH_TIMEOUT(!doc_->switchPending(), 20000);
    QCOMPARE(doc_->plan().linkage, moe::LinkageMethod::Single);
    QCOMPARE(doc_->plan().metric, std::string("cosine"));
    for (int j = 0; j < doc_->numMoeLayers(); ++j)
      QCOMPARE(doc_->tree(j).leafOrder, expectedLeaves(*data_, j, moe::LinkageMethod::Single, "cosine"));
    QCOMPARE(doc_->undoStack()->count(), before + 1);
    QVERIFY(doc_->undoStack()->undoText().contains("single"));
    QVERIFY(doc_->undoStack()->undoText().contains("cosine"));
    doc_->undoStack()->undo();
    QCOMPARE(doc_->plan().linkage, moe::LinkageMethod::Average);
    QCOMPARE(doc_->plan().metric, std::string("euclidean"));
  }

  void kEditsAndLayerChangesDuringTheSwitch() {
    doc_->editLinkage(moe::LinkageMethod::Complete);
    QVERIFY(doc_->switchPending());
    doc_->editLayerK(5, 10);  // an ordinary edit of the plan, applied at once
    QCOMPARE(doc_->k(5), int64_t{10});
    QCOMPARE(distinctGroups(doc_->shownGroups(5)), size_t{10});
    QCOMPARE(view_->dendrogram()->k(), int64_t{10});
    doc_->setCurrentLayer(7);  // the new choice's tree of the new current layer
    QCOMPARE(view_->dendrogram()->leafOrder(), expectedLeaves(*data_, 7, moe::LinkageMethod::Complete, "euclidean"));
    QTRY_VERIFY_WITH_TIMEOUT(!doc_->switchPending(), 20000);
    QCOMPARE(doc_->plan().linkage, moe::LinkageMethod::Complete);
    QCOMPARE(doc_->k(5), int64_t{10});
    QCOMPARE(static_cast<int64_t>(distinctGroups(doc_->mergeGroups(5))), int64_t{10});
  }

  void switchingBackOrUndoingDropsIt() {
    const int before = doc_->undoStack()->count();
    doc_->editLinkage(moe::LinkageMethod::Complete);
    QVERIFY(doc_->switchPending());
    doc_->editLinkage(moe::LinkageMethod::Average);  // back to the plan's choice
    QVERIFY(!doc_->switchPending());
    QCOMPARE(view_->dendrogram()->leafOrder(), expectedLeaves(*data_, 5, moe::LinkageMethod::Average, "euclidean"));
    doc_->editLayerK(2, 3);
    doc_->editMetric("cosine");
    QVERIFY(doc_->switchPending());
    doc_->undoStack()->undo();  // the K edit: the pending switch goes with it
    QVERIFY(!doc_->switchPending());
    QCOMPARE(doc_->shownClustering().metric, std::string("euclidean"));
    // Whatever the cancelled builds still send is not applied.
    QTest::qWait(500);
    QCOMPARE(doc_->plan().linkage, moe::LinkageMethod::Average);
    QCOMPARE(doc_->plan().metric, std::string("euclidean"));
    QCOMPARE(doc_->undoStack()->count(), before + 1);
    QCOMPARE(doc_->undoStack()->index(), before);
  }

  void savingSettlesTheSwitchFirst() {
    const int before = doc_->undoStack()->count();
    doc_->editLinkage(moe::LinkageMethod::Complete);
    QVERIFY(doc_->switchPending());
    // What reads the plan to act on it gets the choice the user sees, at once.
    QTemporaryDir dir;
    const QString path = dir.filePath("plan.json");
    doc_->savePlan(path);
    QVERIFY(!doc_->switchPending());
    QCOMPARE(doc_->plan().linkage, moe::LinkageMethod::Complete);
    QCOMPARE(doc_->undoStack()->count(), before + 1);
    for (int j = 0; j < doc_->numMoeLayers(); ++j)
      QCOMPARE(doc_->tree(j).leafOrder, expectedLeaves(*data_, j, moe::LinkageMethod::Complete, "euclidean"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll().contains("\"complete\""));
    QTest::qWait(300);  // the background build's result, if it still comes, changes nothing
    QCOMPARE(doc_->undoStack()->count(), before + 1);
  }

  void smallAnalysesSwitchAtOnce() {
    ExplorerDocument small;
    small.setAnalysis(handMadeAnalysis(8, 64));
    small.editLinkage(moe::LinkageMethod::Complete);
    QVERIFY(!small.switchPending());
    QCOMPARE(small.plan().linkage, moe::LinkageMethod::Complete);
  }

  void cleanupTestCase() {
    view_.reset();
    doc_.reset();
  }

 private:
  AnalysisDataPtr data_;
  std::unique_ptr<ExplorerDocument> doc_;
  std::unique_ptr<ExplorerView> view_;
};

QTEST_MAIN(DeferredSwitchTest)
#include "test_deferred_switch.moc"
