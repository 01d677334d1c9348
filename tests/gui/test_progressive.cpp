// Progressive display during a GUI analysis (issue 11): each MoE block's views appear as soon as
// the block is analysed (the rest marked pending in the layer table), before the run's finished
// signal; the final result replaces the partial one; a cancelled run puts back what was shown.
// Expected values: the demo model's layout (4 decoder layers, every one a 16-expert MoE block)
// and the store the run wrote, read with core's AnalysisStore, not the explorer's own data.
// ATen (through the core headers) before any Qt header: Qt's keyword macros break its headers.
#include "core/analysis/store.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/analysis_runner.h"
#include "app/gui/app_paths.h"
#include "app/gui/explorer_document.h"
#include "app/gui/explorer_view.h"
#include "app/gui/job_gate.h"
#include "app/gui/main_window.h"
#include "widgets/layer_table.h"

using namespace moe::gui;

namespace {

// What the window showed when a partial result arrived.
struct Snapshot {
  bool runnerBusy = false;      // the run had not finished yet
  bool explorerVisible = false;
  int analysedRows = 0;         // rows of the layer table that select a MoE block
  int pendingRows = 0;          // rows marked "(pending)"
  int blocks = 0;               // MoE blocks in the document
  bool block0Row = false;       // the table has a selectable row for MoE block 0
  std::vector<double> usage0;   // block 0's usage frequency
};

}  // namespace

class ProgressiveTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void layerViewsAppearBeforeTheRunFinishes();
  void cancelledRunPutsBackThePreviousAnalysis();
  void cleanupTestCase();

 private:
  Snapshot snapshot() const;
  QTemporaryDir tmp_;
  MainWindow* window_ = nullptr;
  ExplorerDocument* doc_ = nullptr;
};

void ProgressiveTest::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QVERIFY(tmp_.isValid());
  QVERIFY2(!demoModelDir().isEmpty(), "demo model not found");
  window_ = new MainWindow;
  window_->setQuiet(true);
  window_->resize(1200, 800);
  window_->show();
  QVERIFY(QTest::qWaitForWindowExposed(window_));
  doc_ = window_->document();
}

Snapshot ProgressiveTest::snapshot() const {
  Snapshot s;
  s.runnerBusy = window_->runner()->isBusy();
  s.explorerVisible = window_->explorer()->isVisible();
  const auto* table = window_->explorer()->layerTable();
  for (int r = 0; r < table->rowCount(); ++r) {
    if (table->moeIndexOfRow(r) >= 0) ++s.analysedRows;
    if (table->item(r, 0)->text().contains("pending")) ++s.pendingRows;
  }
  s.block0Row = table->rowOfMoeIndex(0) >= 0;
  s.blocks = doc_->numMoeLayers();
  if (s.blocks > 0) s.usage0 = doc_->stats(0).usageFrequency;
  return s;
}

void ProgressiveTest::layerViewsAppearBeforeTheRunFinishes() {
  AnalysisRequest r = demoRequest(4, 64);
  r.storePath = tmp_.filePath("demo.h5");
  std::vector<Snapshot> shots;
  connect(window_, &MainWindow::partialAnalysisShown, this, [&] { shots.push_back(snapshot()); });
  QSignalSpy loaded(window_, &MainWindow::analysisLoaded);
  QSignalSpy failed(window_, &MainWindow::analysisFailed);
  window_->analyse(r);
  QVERIFY(loaded.wait(180000));
  QCOMPARE(failed.count(), 0);
  disconnect(window_, &MainWindow::partialAnalysisShown, this, nullptr);

  // At least the first block was shown while the run was still going: an analysed row 0, the
  // explorer on screen, the other three blocks pending.
  QVERIFY2(!shots.empty(), "no partial result was shown before the run finished");
  const Snapshot& first = shots.front();
  QVERIFY(first.runnerBusy);
  QVERIFY(first.explorerVisible);
  QVERIFY(first.blocks >= 1 && first.blocks < 4);
  QCOMPARE(first.analysedRows, first.blocks);
  QCOMPARE(first.pendingRows, 4 - first.blocks);
  QVERIFY(first.block0Row);
  for (size_t i = 1; i < shots.size(); ++i) QVERIFY(shots[i].blocks > shots[i - 1].blocks);

  // The final result replaced it: four analysed rows, none pending.
  const Snapshot last = snapshot();
  QVERIFY(!last.runnerBusy);
  QCOMPARE(last.blocks, 4);
  QCOMPARE(last.analysedRows, 4);
  QCOMPARE(last.pendingRows, 0);
  QCOMPARE(doc_->analysis().pendingLayers, 0);
  // Block 0 as shown early is block 0 as stored.
  const moe::AnalysisStore store = moe::AnalysisStore::open(r.storePath.toStdString());
  QCOMPARE(first.usage0, store.readLayer(0).usageFrequency);
}

void ProgressiveTest::cancelledRunPutsBackThePreviousAnalysis() {
  const AnalysisDataPtr before = doc_->analysisPtr();
  QVERIFY(before);
  AnalysisRequest r = demoRequest(4, 64);
  r.storePath = tmp_.filePath("cancelled.h5");
  bool sawPartial = false;
  // Cancel as soon as the first block is shown: the run stops before its next expert.
  connect(window_, &MainWindow::partialAnalysisShown, this, [&] {
    sawPartial = true;
    QVERIFY(doc_->analysisPtr() != before);
    window_->runner()->cancel();
  });
  QSignalSpy failed(window_->runner(), &AnalysisRunner::failed);
  QSignalSpy finished(window_->runner(), &AnalysisRunner::finished);
  window_->analyse(r);
  QTRY_VERIFY_WITH_TIMEOUT(failed.count() + finished.count() > 0, 180000);
  disconnect(window_, &MainWindow::partialAnalysisShown, this, nullptr);
  if (finished.count() > 0) QSKIP("the run finished before Cancel landed");
  QVERIFY(sawPartial);
  QCOMPARE(failed.front().at(1).toBool(), true);
  QCOMPARE(doc_->analysisPtr(), before);
  QVERIFY(!window_->jobGate()->isBusy());
}

void ProgressiveTest::cleanupTestCase() { delete window_; }

QTEST_MAIN(ProgressiveTest)
#include "test_progressive.moc"
