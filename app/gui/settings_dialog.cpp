#include "app/gui/settings_dialog.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include "app/gui/language.h"
#include "app/gui/measure_request.h"

namespace moe {
namespace gui {

SettingsDialog::SettingsDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Settings"));
  QSettings s;
  auto* form = new QFormLayout;
  language_ = new QComboBox(this);
  language_->addItem(tr("System default"), QString());
  for (const QString& code : availableLanguages()) language_->addItem(languageName(code), code);
  language_->setCurrentIndex(std::max(0, language_->findData(configuredLanguage())));
  form->addRow(tr("Language:"), language_);
  sequences_ = new QSpinBox(this);
  sequences_->setRange(1, 100000);
  sequences_->setValue(s.value("analysis/sequences", 32).toInt());
  form->addRow(tr("Calibration sequences:"), sequences_);
  length_ = new QSpinBox(this);
  length_->setRange(8, 1 << 20);
  length_->setValue(s.value("analysis/length", 256).toInt());
  form->addRow(tr("Sequence length:"), length_);
  device_ = new QComboBox(this);
  device_->addItems({"auto", "cpu", "cuda"});
  device_->setCurrentText(s.value("analysis/device", "auto").toString());
  form->addRow(tr("Device:"), device_);
  const MeasureRequest eval = configuredMeasureRequest();
  evalText_ = new QLineEdit(s.value("eval/text").toString(), this);
  evalText_->setPlaceholderText(eval.evalText);
  evalText_->setToolTip(tr("Held-out text for perplexity and KL (JSON lines, plain text, .npy or FILE.h5:DATASET); "
                           "empty: the demo's evaluation text"));
  form->addRow(tr("Evaluation text:"), evalText_);
  evalSequences_ = new QSpinBox(this);
  evalSequences_->setRange(1, 100000);
  evalSequences_->setValue(eval.sequences);
  form->addRow(tr("Evaluation sequences:"), evalSequences_);
  evalLength_ = new QSpinBox(this);
  evalLength_->setRange(2, 1 << 20);
  evalLength_->setValue(eval.length);
  form->addRow(tr("Evaluation length:"), evalLength_);
  genPrompts_ = new QSpinBox(this);
  genPrompts_->setRange(0, 4096);
  genPrompts_->setValue(eval.genPrompts);
  genPrompts_->setSpecialValueText(tr("off"));
  genPrompts_->setToolTip(tr("Measure also free-running agreement: greedy continuations of this many held-out "
                             "prefixes by the original and the merged model (identical prefix, ROUGE-L); 0: off"));
  form->addRow(tr("Generation prompts:"), genPrompts_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

void SettingsDialog::accept() {
  QSettings s;
  s.setValue("analysis/sequences", sequences_->value());
  s.setValue("analysis/length", length_->value());
  s.setValue("analysis/device", device_->currentText());
  s.setValue("eval/text", evalText_->text().trimmed());
  s.setValue("eval/sequences", evalSequences_->value());
  s.setValue("eval/length", evalLength_->value());
  s.setValue("eval/gen_prompts", genPrompts_->value());
  const QString lang = language_->currentData().toString();
  if (lang != configuredLanguage()) {
    setConfiguredLanguage(lang);
    installTranslations(*QCoreApplication::instance(), lang);  // every window retranslates itself
  }
  QDialog::accept();
}

QComboBox* SettingsDialog::languageCombo() const { return language_; }

}  // namespace gui
}  // namespace moe
