// The explorer's Try-it panel on the bundled demo model: the original column holds the tokens
// moe::generate() decodes directly, the plan's columns exist, the highlight starts where the test's
// own comparison of the two token lists says they diverge, errors land in the panel, and Cancel
// returns the panel to idle with a "cancelled" status.
// ATen (through the core headers) before any Qt header: Qt's keyword macros break its headers.
#include "core/engine/model.h"
#include "core/eval/generate.h"
#include "core/merge/merge.h"
#include "core/text/tokenizer.h"

#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextEdit>
#include <QtTest>

#include "app/gui/app_paths.h"
#include "app/gui/explorer_document.h"
#include "app/gui/generate_worker.h"
#include "app/gui/job_gate.h"
#include "app/gui/main_window.h"
#include "app/gui/merge_plan_builder.h"
#include "app/gui/try_it_panel.h"

using namespace moe::gui;

namespace {

const QString kPrompts = QStringLiteral("The capital of France is\n\nOnce upon a time there was");

// The first character of the document drawn with a background (the highlight); -1: none.
int firstHighlightedChar(const QTextDocument* doc) {
  for (QTextBlock b = doc->begin(); b.isValid(); b = b.next())
    for (auto it = b.begin(); !it.atEnd(); ++it) {
      const QTextFragment f = it.fragment();
      if (f.isValid() && f.charFormat().hasProperty(QTextFormat::BackgroundBrush)) return f.position();
    }
  return -1;
}

// Where `b` first differs from `a` within the shorter of the two; -1: nowhere.
int firstDivergence(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (a[i] != b[i]) return static_cast<int>(i);
  return -1;
}

}  // namespace

class TryItTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void originalMatchesCoreAndHighlightFollowsDivergence();
  void errorsShowInThePanel();
  void cancelReturnsToIdle();
  void cleanupTestCase();

 private:
  QTemporaryDir tmp_;
  MainWindow* window_ = nullptr;
  ExplorerDocument* doc_ = nullptr;
  TryItPanel* panel_ = nullptr;
};

void TryItTest::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QVERIFY(tmp_.isValid());
  QVERIFY2(!demoModelDir().isEmpty(), "demo model not found");
  window_ = new MainWindow;
  window_->setQuiet(true);
  window_->resize(1400, 900);
  window_->show();
  QVERIFY(QTest::qWaitForWindowExposed(window_));
  doc_ = window_->document();
  panel_ = window_->tryItPanel();
  QVERIFY(panel_);
  // Without an analysis there is no model to generate with: said in the panel, nothing starts.
  panel_->generate();
  QVERIFY(!panel_->isRunning());
  QVERIFY2(panel_->statusText().contains("first"), qPrintable(panel_->statusText()));

  // A copy of the demo model, so that a test can take its tokenizer away.
  QVERIFY(QDir().mkpath(tmp_.filePath("model")));
  for (const QFileInfo& f : QDir(demoModelDir()).entryInfoList(QDir::Files))
    QVERIFY(QFile::copy(f.absoluteFilePath(), tmp_.filePath("model/") + f.fileName()));
  AnalysisRequest r = demoRequest(4, 64);
  r.modelDir = tmp_.filePath("model");
  r.storePath = tmp_.filePath("demo.h5");
  QSignalSpy loaded(window_, &MainWindow::analysisLoaded);
  window_->analyse(r);
  QVERIFY(loaded.wait(180000));
  QVERIFY(doc_->hasAnalysis());
  doc_->editGlobalK(4);  // 16 -> 4 experts per block: the merged continuations should soon differ
}

void TryItTest::originalMatchesCoreAndHighlightFollowsDivergence() {
  panel_->promptEdit()->setPlainText(kPrompts);
  panel_->maxNewTokensSpin()->setValue(8);
  QCOMPARE(panel_->prompts().size(), 2);
  QSignalSpy ended(panel_, &TryItPanel::runEnded);
  panel_->generate();
  QVERIFY(panel_->isRunning());
  QVERIFY(window_->jobGate()->isBusy());  // holds the gate like the other jobs
  QVERIFY(!panel_->generateButton()->isEnabled());
  QVERIFY(ended.wait(120000));
  QCOMPARE(ended.at(0).at(0).toBool(), true);
  QVERIFY2(!window_->jobGate()->isBusy(), "the gate is released at the end");
  QVERIFY(panel_->generateButton()->isEnabled());

  // The independent computation: the demo model, its tokenizer and its config's EOS id, decoded
  // greedily by moe::generate() itself.
  const QString dir = QString::fromStdString(doc_->analysis().info.modelDir);
  auto model = moe::Model::open(dir.toStdString(), moe::Runtime::make("cpu", "fp32"));
  const moe::Tokenizer tok = moe::Tokenizer::fromFile((dir + "/tokenizer.json").toStdString());
  QFile config(dir + "/config.json");
  QVERIFY(config.open(QIODevice::ReadOnly));
  const int eos = QJsonDocument::fromJson(config.readAll()).object().value("eos_token_id").toInt(-1);
  QVERIFY(eos >= 0);
  std::vector<std::vector<int64_t>> prompts;
  for (const char* text : {"The capital of France is", "Once upon a time there was"}) {
    const std::vector<moe::TokenId> ids = tok.encode(text);
    prompts.emplace_back(ids.begin(), ids.end());
  }
  moe::GenerateOptions o;
  o.maxNewTokens = 8;
  o.stopIds = {eos};
  const std::vector<moe::Continuation> original = moe::generate(*model, prompts, o);
  const moe::MergePlan plan = toMergePlan(doc_->analysis(), doc_->plan(), doc_->derived());
  const std::vector<moe::Continuation> tied =
      moe::generate(*model, prompts, o, moe::planOverride(plan, moe::MergeSemantics::Tied));

  QCOMPARE(panel_->promptCount(), 2);
  QCOMPARE(panel_->variantCount(), 3);
  QCOMPARE(panel_->variantName(0), QString("original"));
  QCOMPARE(panel_->variantName(1), QString("merged (tied)"));
  QCOMPARE(panel_->variantName(2), QString("merged (compact)"));
  int diverged = 0;
  for (int p = 0; p < 2; ++p) {
    QCOMPARE(panel_->cellTokens(0, p), original[static_cast<size_t>(p)].tokens);
    QVERIFY(!original[static_cast<size_t>(p)].tokens.empty());
    QCOMPARE(panel_->cellTokens(1, p), tied[static_cast<size_t>(p)].tokens);
    QCOMPARE(panel_->highlightStart(0, p), -1);  // the reference is never highlighted
    QCOMPARE(firstHighlightedChar(panel_->cellView(0, p)->document()), -1);
    for (int v = 1; v < 3; ++v) {
      const std::vector<int64_t> mine = panel_->cellTokens(v, p);
      QVERIFY(!mine.empty());
      const int d = firstDivergence(original[static_cast<size_t>(p)].tokens, mine);
      QCOMPARE(panel_->highlightStart(v, p), d);
      // The highlight begins right after the text of the tokens the two share (special tokens
      // are not shown).
      const int shared = d < 0 ? -1
                               : static_cast<int>(QString::fromStdString(
                                                      tok.decode(std::vector<moe::TokenId>(mine.begin(), mine.begin() + d), true))
                                                      .size());
      const int shown = firstHighlightedChar(panel_->cellView(v, p)->document());
      QVERIFY2(shown == shared, qPrintable(QString("variant %1 prompt %2: highlight at char %3, expected %4 (token %5)")
                                               .arg(v).arg(p).arg(shown).arg(shared).arg(d)));
      qInfo("variant %d prompt %d: %zu tokens, first divergence at token %d (char %d)", v, p, mine.size(), d, shared);
      if (d > 0) ++diverged;
    }
  }
  // K = 4 of 16 experts changes continuations within 8 tokens; one after a shared first token at
  // least, so that the highlight's position is checked away from the cell's start.
  QVERIFY2(diverged > 0, "no merged continuation diverges after its first token");
  for (int v = 1; v < 3; ++v)
    QVERIFY2(panel_->variantSummary(v).contains("ROUGE-L"), qPrintable(panel_->variantSummary(v)));
}

void TryItTest::errorsShowInThePanel() {
  // No prompt: refused before any work.
  panel_->promptEdit()->setPlainText("  \n\n  ");
  panel_->generate();
  QVERIFY(!panel_->isRunning());
  QVERIFY2(panel_->statusText().contains("prompt"), qPrintable(panel_->statusText()));
  // More positions than the demo's context of 1024: validateGenerateRequest's message, no crash.
  panel_->promptEdit()->setPlainText(kPrompts);
  panel_->maxNewTokensSpin()->setValue(4000);
  QSignalSpy ended(panel_, &TryItPanel::runEnded);
  panel_->generate();
  QVERIFY(ended.wait(60000));
  QCOMPARE(ended.at(0).at(0).toBool(), false);
  QCOMPARE(ended.at(0).at(1).toBool(), false);
  QVERIFY2(panel_->statusText().contains("max_position_embeddings"), qPrintable(panel_->statusText()));
  QVERIFY(!window_->jobGate()->isBusy());
  // No tokenizer.json beside the model: text prompts cannot be tokenized, and the panel says why.
  const QString tokenizer = QString::fromStdString(doc_->analysis().info.modelDir) + "/tokenizer.json";
  QVERIFY(QFile::rename(tokenizer, tokenizer + ".away"));
  panel_->maxNewTokensSpin()->setValue(4);
  panel_->generate();
  QVERIFY(ended.wait(60000));
  QVERIFY(QFile::rename(tokenizer + ".away", tokenizer));
  QCOMPARE(ended.at(1).at(0).toBool(), false);
  QVERIFY2(panel_->statusText().contains("tokenizer.json"), qPrintable(panel_->statusText()));
  QVERIFY(!window_->jobGate()->isBusy());
}

void TryItTest::cancelReturnsToIdle() {
  panel_->promptEdit()->setPlainText(kPrompts);
  panel_->maxNewTokensSpin()->setValue(900);
  QSignalSpy tokens(panel_->runner(), &GenerateRunner::cellUpdated);
  QSignalSpy ended(panel_, &TryItPanel::runEnded);
  panel_->generate();
  QVERIFY(panel_->isRunning());
  QVERIFY(tokens.wait(60000));  // streaming has begun
  QVERIFY(panel_->cancelButton()->isEnabled());
  QTest::mouseClick(panel_->cancelButton(), Qt::LeftButton);
  QVERIFY(ended.wait(60000));
  QCOMPARE(ended.at(0).at(0).toBool(), false);
  QCOMPARE(ended.at(0).at(1).toBool(), true);
  QVERIFY(!panel_->isRunning());
  QVERIFY2(panel_->statusText().contains("cancelled"), qPrintable(panel_->statusText()));
  QVERIFY(!window_->jobGate()->isBusy());
  QVERIFY(panel_->generateButton()->isEnabled());
  QVERIFY(!panel_->cancelButton()->isEnabled());
}

void TryItTest::cleanupTestCase() {
  window_->close();
  delete window_;
}

QTEST_MAIN(TryItTest)
#include "test_try_it.moc"
