// Issue 11: background results must not rebuild the explorer's layer table once each. A burst of
// errorsChanged / estimatesChanged signals within one event-loop turn leads to at most one table
// refresh, and a refresh rewrites only the rows that changed. A hand-made analysis (8 MoE blocks
// of 16 experts, no model on disk: the exact-error service just fails) keeps the test fast.
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>
#include <memory>
#include <random>

#include "app/gui/analysis_data.h"
#include "app/gui/explorer_document.h"
#include "app/gui/explorer_view.h"
#include "widgets/layer_table.h"

using namespace moe::gui;

namespace {

constexpr int kBlocks = 8;
constexpr int64_t kExperts = 16;

AnalysisDataPtr handMadeAnalysis() {
  auto d = std::make_shared<AnalysisData>();
  d->info.numLayers = kBlocks + 1;  // decoder layer 0 dense, as DeepSeek's
  d->info.denseLayers = {0};
  d->info.numExperts = kExperts;
  d->info.topK = 2;
  d->info.hidden = 4;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.1, 1.0);
  for (int j = 0; j < kBlocks; ++j) {
    d->info.moeLayers.push_back(j + 1);
    moe::LayerStats s;
    s.moeIndex = j;
    s.layer = j + 1;
    s.numExperts = kExperts;
    s.topK = 2;
    s.hidden = 4;
    s.tokens = 64;
    double total = 0;
    for (int64_t e = 0; e < kExperts; ++e) total += s.usageFrequency.emplace_back(u(rng));
    for (double& f : s.usageFrequency) f /= total;
    s.reapScore = s.usageFrequency;
    s.expertOutputMean = moe::Matrix(kExperts, 4);
    for (double& v : s.expertOutputMean.data) v = u(rng);
    d->layers.push_back(std::move(s));
  }
  return d;
}

// The table row showing decoder layer `layer` (the table sorts its rows).
int rowOfLayer(const moe::widgets::LayerTable* t, int layer) {
  for (int r = 0; r < t->rowCount(); ++r)
    if (t->item(r, moe::widgets::LayerTable::LayerColumn)->data(moe::widgets::LayerTable::SortKeyRole).toInt() == layer)
      return r;
  return -1;
}

}  // namespace

class RefreshCoalescingTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    doc_ = std::make_unique<ExplorerDocument>();
    view_ = std::make_unique<ExplorerView>(doc_.get());
    view_->resize(1200, 800);
    view_->show();
    doc_->setAnalysis(handMadeAnalysis());
    QTRY_VERIFY_WITH_TIMEOUT(doc_->estimatesReady(), 20000);
    // Let the estimates' refresh and the failed exact-error build settle.
    QTRY_VERIFY_WITH_TIMEOUT(doc_->errorService()->status() == LayerErrorService::Status::Failed ||
                                 doc_->errorService()->status() == LayerErrorService::Status::Ready,
                             20000);
    QTest::qWait(300);
  }

  void burstOfResultsRefreshesTheTableOnce() {
    const int before = view_->tableRefreshCount();
    for (int i = 0; i < 50; ++i) emit doc_->errorsChanged();
    for (int i = 0; i < 5; ++i) emit doc_->estimatesChanged();
    QCOMPARE(view_->tableRefreshCount(), before);  // nothing rebuilt inside the burst
    QTest::qWait(200);                             // the coalescing interval is 30 ms
    QCOMPARE(view_->tableRefreshCount(), before + 1);
  }

  void unchangedRowsAreNotRewritten() {
    auto* table = view_->layerTable();
    QCOMPARE(table->rowCount(), kBlocks + 1);
    // Nothing changed since the last refresh: a refresh rewrites no row.
    int written = table->rowsWritten();
    emit doc_->errorsChanged();
    QTest::qWait(200);
    QCOMPARE(table->rowsWritten(), written);
    // One block's K changes: exactly that block's row is rewritten, and shows the new K.
    doc_->editLayerK(3, 3);
    QTest::qWait(200);
    QCOMPARE(table->rowsWritten(), written + 1);
    const int r = rowOfLayer(table, 4);  // block 3 is decoder layer 4
    QVERIFY(r >= 0);
    QCOMPARE(table->item(r, moe::widgets::LayerTable::KColumn)->text(), QString("3"));
    QCOMPARE(table->item(rowOfLayer(table, 3), moe::widgets::LayerTable::KColumn)->text(), QString("8"));
    // Undo: the row goes back to half the experts.
    written = table->rowsWritten();
    doc_->undoStack()->undo();
    QTest::qWait(200);
    QCOMPARE(table->rowsWritten(), written + 1);
    QCOMPARE(table->item(rowOfLayer(table, 4), moe::widgets::LayerTable::KColumn)->text(), QString("8"));
  }

  void cleanupTestCase() {
    view_.reset();
    doc_.reset();
  }

 private:
  std::unique_ptr<ExplorerDocument> doc_;
  std::unique_ptr<ExplorerView> view_;
};

QTEST_MAIN(RefreshCoalescingTest)
#include "test_refresh_coalescing.moc"
