#pragma once
// "Try it": what the original model and the current plan's merge (tied and compact) write from the
// same prompts, side by side (one column per variant, one row per prompt), streamed token by token.
// The tokens after a merged continuation first leaves the original's are highlighted, and each
// variant's mean identical prefix and ROUGE-L against the original are shown above its column.
// Generation holds the window's job gate like an analysis or an export.
#include <QWidget>
#include <vector>

#include "app/gui/generate_request.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGridLayout;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTextEdit;

namespace moe {
namespace gui {

class ExplorerDocument;
class GenerateRunner;
class JobGate;

class TryItPanel : public QWidget {
  Q_OBJECT

 public:
  TryItPanel(ExplorerDocument* doc, JobGate* gate, QWidget* parent = nullptr);

  // Prompts of the box: paragraphs separated by blank lines, trimmed, empty ones dropped.
  QStringList prompts() const;
  // Starts a generation with the panel's settings (refused, with the reason in the status line,
  // without an analysis, without prompts, or while another job holds the gate).
  void generate();
  void cancel();
  bool isRunning() const;
  QString statusText() const;

  // The results as shown: for tests and screenshots.
  int variantCount() const { return static_cast<int>(variants_.size()); }
  int promptCount() const { return promptCount_; }
  QString variantName(int v) const;
  QString variantSummary(int v) const;  // "same prefix … · ROUGE-L …" (empty until finished)
  std::vector<int64_t> cellTokens(int v, int p) const;
  // The token index where the highlighted (diverged) part of the cell starts; -1: none.
  int highlightStart(int v, int p) const;
  QTextEdit* cellView(int v, int p) const;

  QPlainTextEdit* promptEdit() const { return promptEdit_; }
  QSpinBox* maxNewTokensSpin() const { return maxNew_; }
  QDoubleSpinBox* temperatureSpin() const { return temperature_; }
  QDoubleSpinBox* topPSpin() const { return topP_; }
  QSpinBox* seedSpin() const { return seed_; }
  QCheckBox* scmoeCheck() const { return scmoe_; }
  QPushButton* generateButton() const { return generate_; }
  QPushButton* cancelButton() const { return cancel_; }
  GenerateRunner* runner() const { return runner_; }

 signals:
  // The run ended: finished, failed (message in the status line) or cancelled.
  void runEnded(bool succeeded, bool cancelled);

 private:
  struct Column {
    QLabel* title;
    QLabel* summary;
    std::vector<QTextEdit*> cells;
    std::vector<GeneratedCell> data;
  };
  void createControls();
  void retranslate();
  void loadPrompts();
  void updateButtons();
  void setStatus(const QString& text, bool error = false);
  void clearResults();
  void buildResults(const QStringList& variants, int prompts);
  void showCell(int v, int p, const GeneratedCell& cell);
  void onFinished(const GenerateResult& result);
  void onFailed(const QString& message, bool cancelled);

  ExplorerDocument* doc_;
  JobGate* gate_;
  GenerateRunner* runner_;
  QPlainTextEdit* promptEdit_;
  QPushButton* load_;
  QLabel* maxNewLabel_;
  QSpinBox* maxNew_;
  QLabel* temperatureLabel_;
  QDoubleSpinBox* temperature_;
  QLabel* topPLabel_;
  QDoubleSpinBox* topP_;
  QLabel* seedLabel_;
  QSpinBox* seed_;
  QCheckBox* scmoe_;
  QLabel* betaLabel_;
  QDoubleSpinBox* beta_;
  QLabel* alphaLabel_;
  QDoubleSpinBox* alpha_;
  QLabel* weakLabel_;
  QComboBox* weakMode_;
  QSpinBox* weakValue_;
  QCheckBox* withPlan_;
  QPushButton* generate_;
  QPushButton* cancel_;
  QProgressBar* progress_;
  QLabel* status_;
  QWidget* results_;
  QGridLayout* grid_;
  std::vector<Column> variants_;
  QStringList runPrompts_;
  int promptCount_ = 0;
  bool running_ = false;
};

}  // namespace gui
}  // namespace moe
