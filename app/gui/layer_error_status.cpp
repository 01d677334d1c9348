#include "app/gui/layer_error_status.h"

#include <QEvent>
#include <QFontMetrics>
#include <algorithm>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QToolButton>

#include "app/gui/growing_label.h"
#include "app/gui/layer_error_service.h"
#include "app/gui/progress_panel.h"

namespace moe {
namespace gui {

LayerErrorStatus::LayerErrorStatus(LayerErrorService* service, QWidget* parent) : QWidget(parent), service_(service) {
  label_ = new QLabel(this);
  bar_ = new QProgressBar(this);
  bar_->setMaximumWidth(90);
  bar_->setMaximumHeight(14);
  bar_->setTextVisible(false);
  button_ = new QToolButton(this);
  button_->setAutoRaise(true);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(label_);
  layout->addWidget(bar_);
  layout->addWidget(button_);
  connect(button_, &QToolButton::clicked, this, [this] {
    const auto s = service_->status();
    if (s == LayerErrorService::Status::Building || s == LayerErrorService::Status::Scoring) service_->cancel();
    else service_->restart();
  });
  connect(service_, &LayerErrorService::statusChanged, this, &LayerErrorStatus::refresh);
  connect(service_, &LayerErrorService::resultsChanged, this, &LayerErrorStatus::refresh);
  refresh();
}

QString LayerErrorStatus::text() const { return label_->text(); }

void LayerErrorStatus::refresh() {
  using S = LayerErrorService::Status;
  const S s = service_->status();
  const int pending = service_->pendingCount();
  setVisible(s != S::NoAnalysis);
  bar_->setVisible(s == S::Building || s == S::Scoring);
  button_->setVisible(s != S::Ready);
  QString text;
  switch (s) {
    case S::NoAnalysis:
    case S::Ready:
      text = tr("exact errors");
      label_->setToolTip(tr("Relative L2 error of each merged block's output against the original block on %1 "
                            "calibration tokens")
                             .arg(service_->tokensPerBlock()));
      break;
    case S::Building:
      text = tr("preparing exact errors\u2026") + progressText();
      label_->setToolTip(tr("Running the calibration tokens through the model once; the errors shown are "
                            "estimates until then"));
      if (service_->progress() < 0) {
        bar_->setRange(0, 0);  // busy until the first decoder layer reports
      } else {
        bar_->setRange(0, 1000);
        bar_->setValue(static_cast<int>(service_->progress() * 1000));
      }
      break;
    case S::Scoring:
      text = tr("exact errors: %n left", nullptr, pending) + progressText();
      label_->setToolTip(tr("Scoring the plan's blocks first, then the trade-off curve"));
      bar_->setRange(0, 1000);
      bar_->setValue(static_cast<int>(std::max(0.0, service_->progress()) * 1000));
      break;
    case S::Cancelled:
      text = tr("estimates (exact errors stopped)");
      label_->setToolTip(QString());
      break;
    case S::Failed:
      text = tr("estimates (exact errors unavailable)");
      label_->setToolTip(service_->message());
      break;
  }
  setGrowingLabelText(label_, text);  // changes on every edit of a cut-line drag
  const bool running = s == S::Building || s == S::Scoring;
  button_->setText(running ? tr("Cancel") : tr("Compute"));
  button_->setToolTip(running ? tr("Stop computing exact errors; the estimates stay") : tr("Compute the exact errors"));
}

QString LayerErrorStatus::progressText() const {
  const double p = service_->progress(), eta = service_->etaSeconds();
  QString text;
  if (p >= 0) text += tr(" \u00b7 %1 %").arg(static_cast<int>(p * 100));
  if (eta >= 0) text += tr(" \u00b7 about %1 left").arg(formatSeconds(eta));
  return text;
}

void LayerErrorStatus::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) refresh();
}

}  // namespace gui
}  // namespace moe
