#include "widgets/view_controls.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QSpinBox>
#include <QToolButton>

#include "widgets/heatmap_view.h"
#include "widgets/usage_chart.h"

namespace moe {
namespace widgets {
namespace {

QHBoxLayout* tightRow(QWidget* owner) {
  auto* layout = new QHBoxLayout(owner);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  return layout;
}

}  // namespace

HeatmapControls::HeatmapControls(HeatmapView* view, QWidget* parent) : QWidget(parent) {
  summary_ = new QToolButton(this);
  summary_->setCheckable(true);
  summary_->setAutoRaise(true);
  summary_->setChecked(view->clusterSummary());
  fit_ = new QToolButton(this);
  fit_->setAutoRaise(true);
  QHBoxLayout* layout = tightRow(this);
  layout->addWidget(summary_);
  layout->addWidget(fit_);
  connect(summary_, &QToolButton::toggled, view, &HeatmapView::setClusterSummary);
  connect(fit_, &QToolButton::clicked, view, &HeatmapView::fitAll);
  retranslate();
}

void HeatmapControls::retranslate() {
  summary_->setText(tr("Clusters"));
  summary_->setToolTip(tr("One cell per pair of clusters: the mean value between their experts"));
  fit_->setText(tr("Fit"));
  fit_->setToolTip(tr("Show the whole matrix (wheel or +/- zoom, drag or arrow keys pan, double-click or Home fits)"));
}

void HeatmapControls::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) retranslate();
}

UsageChartControls::UsageChartControls(UsageChart* chart, QWidget* parent) : QWidget(parent) {
  sort_ = new QComboBox(this);
  sort_->addItems({QString(), QString(), QString()});  // texts in retranslate(), in SortMode order
  sort_->setCurrentIndex(static_cast<int>(chart->sortMode()));
  top_ = new QSpinBox(this);
  top_->setRange(0, 4096);
  top_->setSingleStep(16);
  top_->setValue(chart->topN());
  top_->setKeyboardTracking(false);
  QHBoxLayout* layout = tightRow(this);
  layout->addWidget(sort_);
  layout->addWidget(top_);
  connect(sort_, qOverload<int>(&QComboBox::currentIndexChanged), chart,
          [chart](int index) { chart->setSortMode(static_cast<UsageChart::SortMode>(index)); });
  connect(top_, qOverload<int>(&QSpinBox::valueChanged), chart, &UsageChart::setTopN);
  retranslate();
}

void UsageChartControls::retranslate() {
  sort_->setItemText(0, tr("Dendrogram order"));
  sort_->setItemText(1, tr("By usage"));
  sort_->setItemText(2, tr("By REAP score"));
  sort_->setToolTip(tr("Order of the bars"));
  top_->setPrefix(tr("top "));
  top_->setSpecialValueText(tr("all experts"));
  top_->setToolTip(tr("Show only this many experts, those used most (or with the highest REAP score when "
                      "sorted by it); 0 shows all"));
}

void UsageChartControls::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) retranslate();
}

}  // namespace widgets
}  // namespace moe
