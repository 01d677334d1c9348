// Core (ATen) headers first: Qt's `slots`/`signals` macros must not be defined while they parse.
#include "core/eval/generation_preview.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QTextEdit>
#include <QVBoxLayout>

#include "app/gui/explorer_document.h"
#include "app/gui/generate_worker.h"
#include "app/gui/job_gate.h"
#include "app/gui/merge_plan_builder.h"
#include "app/gui/retranslate.h"
#include "app/gui/try_it_panel.h"

namespace moe {
namespace gui {
namespace {

// Background of the tokens after the first divergence from the original (light orange, readable
// with the default dark text in both palettes' text boxes).
const QColor kDivergedBackground(255, 210, 150);

// The worker's variant names (as `moescope generate` prints them) in the interface language.
QString displayName(const QString& name) {
  if (name == "original") return TryItPanel::tr("Original");
  if (name == "merged (tied)") return TryItPanel::tr("Merged (tied)");
  if (name == "merged (compact)") return TryItPanel::tr("Merged (compact)");
  return name;
}

}  // namespace

TryItPanel::TryItPanel(ExplorerDocument* doc, JobGate* gate, QWidget* parent)
    : QWidget(parent), doc_(doc), gate_(gate) {
  runner_ = new GenerateRunner(this);
  createControls();
  onLanguageChange(this, [this] { retranslate(); });
  connect(load_, &QPushButton::clicked, this, &TryItPanel::loadPrompts);
  connect(generate_, &QPushButton::clicked, this, &TryItPanel::generate);
  connect(cancel_, &QPushButton::clicked, this, &TryItPanel::cancel);
  connect(scmoe_, &QCheckBox::toggled, this, &TryItPanel::updateButtons);
  connect(gate_, &JobGate::busyChanged, this, &TryItPanel::updateButtons);
  connect(doc_, &ExplorerDocument::analysisChanged, this, &TryItPanel::updateButtons);
  connect(runner_, &GenerateRunner::started, this, &TryItPanel::buildResults);
  connect(runner_, &GenerateRunner::cellUpdated, this, &TryItPanel::showCell);
  connect(runner_, &GenerateRunner::progressed, this, [this](int done, int total) {
    progress_->setRange(0, total);
    progress_->setValue(done);
  });
  connect(runner_, &GenerateRunner::finished, this, &TryItPanel::onFinished);
  connect(runner_, &GenerateRunner::failed, this, &TryItPanel::onFailed);
  updateButtons();
}

// Prompts and settings on the left, the results grid (scrolling) on the right.
void TryItPanel::createControls() {
  promptEdit_ = new QPlainTextEdit(this);
  promptEdit_->setPlainText(QStringLiteral("The capital of France is\n\nOnce upon a time"));
  load_ = new QPushButton(this);
  maxNewLabel_ = new QLabel(this);
  maxNew_ = new QSpinBox(this);
  maxNew_->setRange(1, 4096);
  maxNew_->setValue(32);
  temperatureLabel_ = new QLabel(this);
  temperature_ = new QDoubleSpinBox(this);
  temperature_->setRange(0, 5);
  temperature_->setSingleStep(0.1);
  temperature_->setDecimals(2);
  topPLabel_ = new QLabel(this);
  topP_ = new QDoubleSpinBox(this);
  topP_->setRange(0.01, 1);
  topP_->setSingleStep(0.05);
  topP_->setDecimals(2);
  topP_->setValue(1);
  seedLabel_ = new QLabel(this);
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 1 << 30);
  scmoe_ = new QCheckBox(this);
  betaLabel_ = new QLabel(this);
  beta_ = new QDoubleSpinBox(this);
  beta_->setRange(0, 10);
  beta_->setSingleStep(0.1);
  beta_->setValue(0.5);
  alphaLabel_ = new QLabel(this);
  alpha_ = new QDoubleSpinBox(this);
  alpha_->setRange(0, 1);
  alpha_->setSingleStep(0.05);
  alpha_->setValue(0.1);
  weakLabel_ = new QLabel(this);
  weakMode_ = new QComboBox(this);
  weakValue_ = new QSpinBox(this);
  weakValue_->setRange(1, 1024);
  weakValue_->setValue(1);
  withPlan_ = new QCheckBox(this);
  withPlan_->setChecked(true);
  generate_ = new QPushButton(this);
  cancel_ = new QPushButton(this);
  progress_ = new QProgressBar(this);
  progress_->setTextVisible(false);
  progress_->setMaximumHeight(14);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* controls = new QWidget(this);
  auto* left = new QVBoxLayout(controls);
  left->setContentsMargins(0, 0, 0, 0);
  left->addWidget(promptEdit_, 1);
  left->addWidget(load_);
  auto* form = new QFormLayout;
  form->addRow(maxNewLabel_, maxNew_);
  form->addRow(temperatureLabel_, temperature_);
  form->addRow(topPLabel_, topP_);
  form->addRow(seedLabel_, seed_);
  form->addRow(scmoe_);
  form->addRow(betaLabel_, beta_);
  form->addRow(alphaLabel_, alpha_);
  auto* weak = new QHBoxLayout;
  weak->addWidget(weakMode_);
  weak->addWidget(weakValue_);
  form->addRow(weakLabel_, weak);
  form->addRow(withPlan_);
  left->addLayout(form);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(generate_);
  buttons->addWidget(cancel_);
  left->addLayout(buttons);
  left->addWidget(progress_);
  left->addWidget(status_);

  results_ = new QWidget(this);
  grid_ = new QGridLayout(results_);
  grid_->setAlignment(Qt::AlignTop);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setWidget(results_);

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(controls);
  split->addWidget(scroll);
  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 1);
  split->setChildrenCollapsible(false);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(split);
}

void TryItPanel::retranslate() {
  promptEdit_->setPlaceholderText(tr("One prompt per paragraph; a blank line separates prompts"));
  load_->setText(tr("Load prompts\u2026"));
  load_->setToolTip(tr("Prompts from a JSON-lines file (its \"text\" field) or a plain-text file (blank-line "
                       "separated paragraphs)"));
  maxNewLabel_->setText(tr("Max new tokens"));
  temperatureLabel_->setText(tr("Temperature"));
  temperature_->setToolTip(tr("0: greedy decoding"));
  topPLabel_->setText(tr("Top-p"));
  seedLabel_->setText(tr("Seed"));
  seed_->setToolTip(tr("Seed of the sampler (with a temperature above 0)"));
  scmoe_->setText(tr("SCMoE (contrast with a weak routing)"));
  scmoe_->setToolTip(tr("Self-contrast decoding (Shi et al., 2024): scores = log p_strong + beta (log p_strong - "
                        "log p_weak), over the tokens at least alpha times as likely as the best one"));
  betaLabel_->setText(tr("Beta"));
  alphaLabel_->setText(tr("Alpha"));
  weakLabel_->setText(tr("Weak routing"));
  const QStringList weakModes{tr("top-k"), tr("rank")};
  if (weakMode_->count() == 0) weakMode_->addItems(weakModes);
  for (int i = 0; i < weakModes.size(); ++i) weakMode_->setItemText(i, weakModes[i]);
  weakMode_->setToolTip(tr("top-k: the block's top-k cut to this many experts; rank: only the expert the router ranks at this place"));
  withPlan_->setText(tr("Merged variants of the current plan (tied and compact)"));
  generate_->setText(tr("Generate"));
  cancel_->setText(tr("Cancel"));
  for (Column& c : variants_) c.title->setText(QStringLiteral("<b>%1</b>").arg(displayName(c.title->objectName())));
}

QStringList TryItPanel::prompts() const {
  QStringList out;
  for (const QString& p : promptEdit_->toPlainText().split(QRegularExpression(QStringLiteral("\\n[ \\t\\r]*\\n")))) {
    const QString t = p.trimmed();
    if (!t.isEmpty()) out << t;
  }
  return out;
}

void TryItPanel::loadPrompts() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Load Prompts"), QString(),
                                                    tr("Prompts (*.jsonl *.json *.txt);;All files (*)"));
  if (path.isEmpty()) return;
  try {
    QStringList texts;
    for (const std::string& p : moe::readPrompts(path.toStdString())) texts << QString::fromStdString(p);
    promptEdit_->setPlainText(texts.join(QStringLiteral("\n\n")));
    setStatus(tr("Loaded %n prompt(s) from %1", nullptr, static_cast<int>(texts.size())).arg(path));
  } catch (const std::exception& e) {
    setStatus(QString::fromStdString(e.what()), true);
  }
}

bool TryItPanel::isRunning() const { return running_; }
QString TryItPanel::statusText() const { return status_->text(); }

void TryItPanel::setStatus(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? QStringLiteral("color: #b00020") : QString());
}

void TryItPanel::updateButtons() {
  generate_->setEnabled(!running_ && !gate_->isBusy() && doc_->hasAnalysis());
  cancel_->setEnabled(running_);
  for (QWidget* w : std::initializer_list<QWidget*>{betaLabel_, beta_, alphaLabel_, alpha_, weakLabel_, weakMode_, weakValue_})
    w->setEnabled(scmoe_->isChecked());
  if (!running_) progress_->setVisible(false);
}

void TryItPanel::generate() {
  if (running_) return;
  if (!doc_->hasAnalysis()) {
    setStatus(tr("Open a model or an analysis first: the panel generates with its model."), true);
    return;
  }
  GenerateRequest r;
  r.modelDir = QString::fromStdString(doc_->analysis().info.modelDir);
  r.prompts = prompts();
  if (r.prompts.isEmpty()) {
    setStatus(tr("Type at least one prompt (a blank line separates prompts)."), true);
    return;
  }
  r.maxNewTokens = maxNew_->value();
  r.temperature = temperature_->value();
  r.topP = topP_->value();
  r.seed = static_cast<quint64>(seed_->value());
  r.scmoe = scmoe_->isChecked();
  r.scmoeBeta = beta_->value();
  r.scmoeAlpha = alpha_->value();
  (weakMode_->currentIndex() == 1 ? r.weakRank : r.weakTopK) = weakValue_->value();
  r.withPlan = withPlan_->isChecked();
  if (r.withPlan) {
    doc_->settleSwitch();  // generate with the clustering choice the user sees
    try {
      r.plan = toMergePlan(doc_->analysis(), doc_->plan(), doc_->derived());
    } catch (const std::exception& e) {  // a plan core refuses: say so here, never crash
      setStatus(tr("The current plan cannot be merged: %1").arg(QString::fromStdString(e.what())), true);
      return;
    }
    r.calibTokens = doc_->analysis().info.tokenIds;
    r.calibShape = doc_->analysis().info.tokenShape;
  }
  QString why;
  const CancelFlag job = gate_->tryStart(JobGate::Job::Generate, tr("generating text"), &why);
  if (!job) {
    setStatus(why, true);
    return;
  }
  running_ = true;
  runPrompts_ = r.prompts;
  clearResults();
  progress_->setRange(0, 0);
  progress_->setVisible(true);
  setStatus(tr("Loading the model and the tokenizer\u2026"));
  updateButtons();
  runner_->start(r, job);
}

void TryItPanel::cancel() {
  if (!running_) return;
  runner_->cancel();
  setStatus(tr("Cancelling\u2026"));
}

void TryItPanel::clearResults() {
  while (QLayoutItem* item = grid_->takeAt(0)) {
    if (QWidget* w = item->widget()) w->deleteLater();
    delete item;
  }
  variants_.clear();
  promptCount_ = 0;
}

// Row 0: each variant's name and agreement; then per prompt its text over one cell per variant.
void TryItPanel::buildResults(const QStringList& variants, int prompts) {
  clearResults();
  promptCount_ = prompts;
  const int nv = static_cast<int>(variants.size());
  for (int v = 0; v < nv; ++v) {
    Column c;
    auto* head = new QWidget(results_);
    c.title = new QLabel(QStringLiteral("<b>%1</b>").arg(displayName(variants[v])), head);
    c.title->setObjectName(variants[v]);  // the raw name, for variantName() and retranslation
    c.summary = new QLabel(head);
    c.summary->setWordWrap(true);
    auto* headLayout = new QVBoxLayout(head);
    headLayout->setContentsMargins(0, 0, 0, 0);
    headLayout->addWidget(c.title);
    headLayout->addWidget(c.summary);
    grid_->addWidget(head, 0, v);
    c.data.resize(static_cast<size_t>(prompts));
    variants_.push_back(c);
  }
  for (int p = 0; p < prompts; ++p) {
    auto* label = new QLabel(results_);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    label->setText(tr("Prompt %1: %2").arg(p + 1).arg(p < runPrompts_.size() ? runPrompts_[p] : QString()));
    grid_->addWidget(label, 1 + 2 * p, 0, 1, nv);
    for (int v = 0; v < nv; ++v) {
      auto* cell = new QTextEdit(results_);
      cell->setReadOnly(true);
      cell->setMinimumHeight(cell->fontMetrics().lineSpacing() * 4);
      cell->setMaximumHeight(cell->fontMetrics().lineSpacing() * 8);
      grid_->addWidget(cell, 2 + 2 * p, v);
      variants_[static_cast<size_t>(v)].cells.push_back(cell);
    }
  }
  for (int v = 0; v < nv; ++v) grid_->setColumnStretch(v, 1);
  setStatus(tr("Generating %n token(s) per prompt\u2026", nullptr, maxNew_->value()));
}

// The cell's text: the part the original wrote too in the normal format, the rest highlighted.
void TryItPanel::showCell(int v, int p, const GeneratedCell& cell) {
  if (v < 0 || v >= variantCount() || p < 0 || p >= promptCount_) return;
  Column& c = variants_[static_cast<size_t>(v)];
  c.data[static_cast<size_t>(p)] = cell;
  QTextEdit* view = c.cells[static_cast<size_t>(p)];
  view->clear();
  QTextCursor cursor(view->document());
  cursor.insertText(cell.same, QTextCharFormat());
  if (!cell.diverged.isEmpty()) {
    QTextCharFormat diverged;
    diverged.setBackground(kDivergedBackground);
    diverged.setForeground(Qt::black);
    diverged.setToolTip(tr("From token %1 on, this continuation differs from the original's").arg(cell.divergence + 1));
    cursor.insertText(cell.diverged, diverged);
  }
  if (cell.stopped) {
    QTextCharFormat end;
    end.setForeground(Qt::gray);
    cursor.insertText(QStringLiteral(" \u23ce") + tr("end of text"), end);
  }
}

void TryItPanel::onFinished(const GenerateResult& result) {
  running_ = false;
  gate_->finish(JobGate::Job::Generate);
  for (size_t v = 0; v < result.variants.size() && v < variants_.size(); ++v) {
    const GeneratedVariant& gv = result.variants[v];
    for (size_t p = 0; p < gv.cells.size(); ++p) showCell(static_cast<int>(v), static_cast<int>(p), gv.cells[p]);
    variants_[v].summary->setText(
        v == 0 ? tr("reference \u00b7 %1 tokens/s").arg(gv.tokensPerSecond, 0, 'f', 1)
               : tr("same prefix %1 tokens \u00b7 ROUGE-L %2 \u00b7 %3 tokens/s")
                     .arg(gv.meanIdenticalPrefix, 0, 'f', 1)
                     .arg(gv.meanRougeL, 0, 'f', 3)
                     .arg(gv.tokensPerSecond, 0, 'f', 1));
  }
  setStatus(tr("Done in %1 s.").arg(result.seconds, 0, 'f', 1));
  updateButtons();
  emit runEnded(true, false);
}

void TryItPanel::onFailed(const QString& message, bool cancelled) {
  running_ = false;
  gate_->finish(JobGate::Job::Generate);
  if (cancelled) setStatus(tr("Generation cancelled."));
  else setStatus(tr("Generation failed: %1").arg(message), true);
  updateButtons();
  emit runEnded(false, cancelled);
}

QString TryItPanel::variantName(int v) const {
  return v >= 0 && v < variantCount() ? variants_[static_cast<size_t>(v)].title->objectName() : QString();
}

QString TryItPanel::variantSummary(int v) const {
  return v >= 0 && v < variantCount() ? variants_[static_cast<size_t>(v)].summary->text() : QString();
}

std::vector<int64_t> TryItPanel::cellTokens(int v, int p) const {
  if (v < 0 || v >= variantCount() || p < 0 || p >= promptCount_) return {};
  return variants_[static_cast<size_t>(v)].data[static_cast<size_t>(p)].tokens;
}

int TryItPanel::highlightStart(int v, int p) const {
  if (v < 0 || v >= variantCount() || p < 0 || p >= promptCount_) return -1;
  return variants_[static_cast<size_t>(v)].data[static_cast<size_t>(p)].divergence;
}

QTextEdit* TryItPanel::cellView(int v, int p) const {
  if (v < 0 || v >= variantCount() || p < 0 || p >= promptCount_) return nullptr;
  return variants_[static_cast<size_t>(v)].cells[static_cast<size_t>(p)];
}

}  // namespace gui
}  // namespace moe
