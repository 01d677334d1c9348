#include "app/gui/welcome_page.h"

#include <QApplication>
#include <QCommandLinkButton>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QVBoxLayout>

#include "app/gui/recent_files.h"
#include "app/gui/retranslate.h"

namespace moe {
namespace gui {

WelcomePage::WelcomePage(QWidget* parent) : QWidget(parent) {
  auto* title = new QLabel(QStringLiteral("MoEScope"), this);
  QFont big = title->font();
  big.setPointSizeF(big.pointSizeF() * 2.4);
  big.setBold(true);
  title->setFont(big);
  auto* subtitle = new QLabel(this);
  subtitle->setWordWrap(true);
  subtitle->setForegroundRole(QPalette::PlaceholderText);

  auto* demo = new QCommandLinkButton(this);
  auto* model = new QCommandLinkButton(this);
  auto* analysis = new QCommandLinkButton(this);
  auto* hint = new QLabel(this);
  hint->setForegroundRole(QPalette::PlaceholderText);

  auto* recentTitle = new QLabel(this);
  onLanguageChange(this, [=] {
    subtitle->setText(tr("See how redundant a Mixture-of-Experts model's experts are, cut the "
                         "dendrograms layer by layer, and merge them with HC-SMoE."));
    demo->setText(tr("Explore the demo model"));
    demo->setDescription(tr("A small Mixtral-style model with 16 experts per layer, bundled with MoEScope"));
    model->setText(tr("Open Model\u2026"));
    model->setDescription(tr("Analyse a Hugging Face checkpoint folder"));
    analysis->setText(tr("Open Analysis\u2026"));
    analysis->setDescription(tr("Reopen a saved analysis (.h5)"));
    hint->setText(tr("Tip: drop a model folder or an analysis file on this window."));
    recentTitle->setText(tr("Recent"));
  });
  QFont bold = recentTitle->font();
  bold.setBold(true);
  recentTitle->setFont(bold);
  recent_ = new QListWidget(this);
  recent_->setFrameShape(QFrame::NoFrame);
  recent_->setMinimumWidth(360);

  auto* titleRow = new QHBoxLayout;
  if (!QApplication::windowIcon().isNull()) {
    auto* icon = new QLabel(this);
    icon->setPixmap(QApplication::windowIcon().pixmap(QSize(56, 56)));
    titleRow->addWidget(icon);
    titleRow->addSpacing(6);
  }
  titleRow->addWidget(title);
  titleRow->addStretch(1);
  auto* left = new QVBoxLayout;
  left->addLayout(titleRow);
  left->addWidget(subtitle);
  left->addSpacing(18);
  left->addWidget(demo);
  left->addWidget(model);
  left->addWidget(analysis);
  left->addSpacing(8);
  left->addWidget(hint);
  left->addStretch(1);
  auto* right = new QVBoxLayout;
  right->addWidget(recentTitle);
  right->addWidget(recent_, 1);
  auto* row = new QHBoxLayout;
  row->addStretch(1);
  row->addLayout(left, 3);
  row->addSpacing(40);
  row->addLayout(right, 2);
  row->addStretch(1);
  auto* outer = new QVBoxLayout(this);
  outer->addStretch(1);
  outer->addLayout(row, 4);
  outer->addStretch(1);

  connect(demo, &QCommandLinkButton::clicked, this, &WelcomePage::openDemoRequested);
  connect(model, &QCommandLinkButton::clicked, this, &WelcomePage::openModelRequested);
  connect(analysis, &QCommandLinkButton::clicked, this, &WelcomePage::openAnalysisRequested);
  connect(recent_, &QListWidget::itemActivated, this,
          [this](QListWidgetItem* item) { emit openPathRequested(item->data(Qt::UserRole).toString()); });
  onLanguageChange(this, [this] { refreshRecent(); });
}

void WelcomePage::refreshRecent() {
  recent_->clear();
  for (const QString& path : recentFiles()) {
    const QFileInfo info(path);
    auto* item = new QListWidgetItem(info.fileName() + "\n" + QDir::toNativeSeparators(info.absolutePath()), recent_);
    item->setData(Qt::UserRole, path);
    item->setToolTip(path);
  }
  if (recent_->count() == 0) {
    auto* item = new QListWidgetItem(tr("No recent models or analyses"), recent_);
    item->setFlags(Qt::NoItemFlags);
  }
}

}  // namespace gui
}  // namespace moe
