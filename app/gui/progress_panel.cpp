#include "app/gui/progress_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "app/gui/retranslate.h"

namespace moe {
namespace gui {

QString formatSeconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("\u2013");
  const int s = static_cast<int>(std::lround(seconds));
  if (s < 60) return ProgressPanel::tr("%1 s").arg(s);
  if (s < 3600) return ProgressPanel::tr("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
  return ProgressPanel::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QChar('0'));
}

ProgressPanel::ProgressPanel(QWidget* parent) : QFrame(parent) {
  setFrameShape(QFrame::StyledPanel);
  setAutoFillBackground(true);
  setBackgroundRole(QPalette::AlternateBase);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(12, 8, 12, 8);
  auto* text = new QVBoxLayout;
  title_ = new QLabel(this);
  QFont f = title_->font();
  f.setBold(true);
  title_->setFont(f);
  detail_ = new QLabel(this);
  text->addWidget(title_);
  text->addWidget(detail_);
  layout->addLayout(text, 1);
  bar_ = new QProgressBar(this);
  bar_->setMinimumWidth(260);
  bar_->setTextVisible(true);
  layout->addWidget(bar_);
  cancel_ = new QPushButton(this);
  onLanguageChange(this, [this] { cancel_->setText(tr("Cancel")); });
  cancel_->setShortcut(Qt::Key_Escape);
  layout->addWidget(cancel_);
  connect(cancel_, &QPushButton::clicked, this, [this] {
    cancel_->setEnabled(false);
    detail_->setText(tr("Cancelling\u2026"));
    emit cancelRequested();
  });
  hide();
}

void ProgressPanel::start(const QString& title) {
  title_->setText(title);
  detail_->setText(QString());
  bar_->setRange(0, 0);  // busy until the first layer reports
  cancel_->setEnabled(true);
  show();
}

void ProgressPanel::setStatus(const QString& message) {
  if (cancel_->isEnabled()) detail_->setText(message);
}

void ProgressPanel::setProgress(const AnalysisProgressInfo& p) {
  // Thousandths of a layer, so that the bar moves with the experts of a long block.
  const int layers = std::max(1, p.numLayers);
  const bool inBlock = p.computingLayer >= 0 && p.expertsTotal > 0;
  const double done = inBlock ? p.computingLayer + static_cast<double>(p.expertsDone) / static_cast<double>(p.expertsTotal)
                              : p.layer + 1;
  bar_->setRange(0, layers * 1000);
  bar_->setValue(static_cast<int>(std::lround(std::clamp(done, 0.0, static_cast<double>(layers)) * 1000)));
  bar_->setFormat(inBlock ? tr("layer %1 of %2 \u00b7 expert %3 of %4")
                                .arg(p.computingLayer + 1)
                                .arg(p.numLayers)
                                .arg(p.expertsDone)
                                .arg(p.expertsTotal)
                          : tr("layer %1 of %2").arg(p.layer + 1).arg(p.numLayers));
  if (cancel_->isEnabled())
    detail_->setText(tr("%1 tokens/s \u00b7 elapsed %2 \u00b7 about %3 left")
                         .arg(p.tokensPerSecond, 0, 'f', 0)
                         .arg(formatSeconds(p.elapsedSeconds), formatSeconds(p.etaSeconds)));
}

void ProgressPanel::setByteProgress(qint64 done, qint64 total) {
  bar_->setRange(0, 1000);
  bar_->setValue(total > 0 ? static_cast<int>(1000.0 * static_cast<double>(done) / static_cast<double>(total)) : 0);
  bar_->setFormat(QStringLiteral("%p%"));
  if (cancel_->isEnabled())
    detail_->setText(tr("%1 of %2 MB written").arg(done / 1e6, 0, 'f', 1).arg(total / 1e6, 0, 'f', 1));
}

void ProgressPanel::finish() { hide(); }

}  // namespace gui
}  // namespace moe
