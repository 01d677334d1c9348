#include "app/gui/analysis_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "app/gui/analysis_estimate.h"
#include "app/gui/app_paths.h"
#include "app/gui/progress_panel.h"

namespace moe {
namespace gui {
namespace {

QWidget* withBrowse(QLineEdit* edit, QPushButton* browse) {
  auto* w = new QWidget;
  auto* l = new QHBoxLayout(w);
  l->setContentsMargins(0, 0, 0, 0);
  l->addWidget(edit, 1);
  l->addWidget(browse);
  return w;
}

}  // namespace

AnalysisDialog::AnalysisDialog(const AnalysisRequest& initial, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Analyse Model"));
  auto* form = new QFormLayout;
  model_ = new QLineEdit(initial.modelDir, this);
  auto* browseModel = new QPushButton(tr("Browse\u2026"), this);
  form->addRow(tr("Model folder:"), withBrowse(model_, browseModel));
  source_ = new QComboBox(this);
  source_->addItem(tr("Bundled calibration text"));
  source_->addItem(tr("File"));
  form->addRow(tr("Calibration:"), source_);
  file_ = new QLineEdit(this);
  file_->setPlaceholderText(tr(".jsonl, .txt, .npy or FILE.h5:DATASET"));
  auto* browseFile = new QPushButton(tr("Browse\u2026"), this);
  QWidget* fileRow = withBrowse(file_, browseFile);
  form->addRow(QString(), fileRow);
  const bool bundled = initial.calibration.isEmpty() || initial.calibration == demoCalibration();
  source_->setCurrentIndex(bundled ? 0 : 1);
  if (!bundled) file_->setText(initial.calibration);
  sequences_ = new QSpinBox(this);
  sequences_->setRange(1, 100000);
  sequences_->setValue(initial.sequences);
  length_ = new QSpinBox(this);
  length_->setRange(8, 1 << 20);
  length_->setValue(initial.length);
  auto* size = new QWidget(this);
  auto* sizeLayout = new QHBoxLayout(size);
  sizeLayout->setContentsMargins(0, 0, 0, 0);
  sizeLayout->addWidget(sequences_);
  sizeLayout->addWidget(new QLabel(QStringLiteral("\u00d7"), size));
  sizeLayout->addWidget(length_);
  sizeLayout->addWidget(new QLabel(tr("tokens"), size));
  sizeLayout->addStretch(1);
  form->addRow(tr("Sequences \u00d7 length:"), size);
  statistic_ = new QComboBox(this);
  statistic_->addItem(tr("Every expert on every token (paper)"));
  statistic_->addItem(tr("Routed tokens only (faster)"));
  statistic_->setCurrentIndex(initial.allTokens ? 0 : 1);
  form->addRow(tr("Statistic:"), statistic_);
  device_ = new QComboBox(this);
  device_->addItems({"auto", "cpu", "cuda"});
  device_->setCurrentText(initial.device);
  form->addRow(tr("Device:"), device_);
  dtype_ = new QComboBox(this);
  dtype_->addItems({"fp32", "bf16"});
  dtype_->setCurrentText(initial.dtype);
  form->addRow(tr("Precision:"), dtype_);
  estimate_ = new QLabel(this);
  estimate_->setWordWrap(true);
  form->addRow(tr("Estimated time:"), estimate_);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Analyse"));
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);
  setMinimumWidth(520);

  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browseModel, &QPushButton::clicked, this, [this] {
    const QString d = QFileDialog::getExistingDirectory(this, tr("Model Folder"), model_->text());
    if (!d.isEmpty()) model_->setText(d);
  });
  connect(browseFile, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Calibration Text"), file_->text(),
                                                   tr("Text or token ids (*.jsonl *.json *.txt *.npy *.h5);;All files (*)"));
    if (!f.isEmpty()) file_->setText(f), source_->setCurrentIndex(1);
  });
  auto refresh = [this, fileRow] {
    fileRow->setEnabled(source_->currentIndex() == 1);
    updateEstimate();
  };
  connect(source_, qOverload<int>(&QComboBox::currentIndexChanged), this, refresh);
  for (QSpinBox* s : {sequences_, length_}) connect(s, qOverload<int>(&QSpinBox::valueChanged), this, refresh);
  connect(statistic_, qOverload<int>(&QComboBox::currentIndexChanged), this, refresh);
  connect(model_, &QLineEdit::textChanged, this, refresh);
  refresh();
}

QString AnalysisDialog::calibrationPath() const {
  return source_->currentIndex() == 0 ? demoCalibration() : file_->text();
}

AnalysisRequest AnalysisDialog::request() const {
  AnalysisRequest r;
  r.modelDir = model_->text();
  r.calibration = calibrationPath();
  r.sequences = sequences_->value();
  r.length = length_->value();
  r.allTokens = statistic_->currentIndex() == 0;
  r.device = device_->currentText();
  r.dtype = dtype_->currentText();
  r.storePath = cachedStorePath(r);
  return r;
}

void AnalysisDialog::updateEstimate() {
  AnalysisRequest r;
  r.modelDir = model_->text();
  r.sequences = sequences_->value();
  r.length = length_->value();
  r.allTokens = statistic_->currentIndex() == 0;
  const double flops = estimateAnalysisFlops(r);
  if (flops <= 0) {
    estimate_->setText(tr("unknown (no readable config.json in the model folder)"));
    return;
  }
  const double gflops = measuredGflops();
  estimate_->setText(tr("about %1 (%2 TFLOP at %3 GFLOP/s, the speed measured on this machine)")
                         .arg(formatSeconds(flops / (gflops * 1e9)))
                         .arg(flops / 1e12, 0, 'f', 2)
                         .arg(gflops, 0, 'f', 0));
}

}  // namespace gui
}  // namespace moe
