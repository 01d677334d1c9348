#include "app/gui/panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace moe {
namespace gui {

Panel::Panel(const QString& title, QWidget* content, QWidget* parent) : QFrame(parent), content_(content) {
  setFrameShape(QFrame::StyledPanel);
  setObjectName("panel");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  auto* head = new QWidget(this);
  head->setObjectName("panelHeader");
  head->setAutoFillBackground(true);
  head->setBackgroundRole(QPalette::Window);
  header_ = new QHBoxLayout(head);
  header_->setContentsMargins(10, 5, 8, 5);
  header_->setSpacing(8);
  title_ = new QLabel(title, head);
  QFont f = title_->font();
  f.setBold(true);
  title_->setFont(f);
  subtitle_ = new QLabel(head);
  subtitle_->setForegroundRole(QPalette::PlaceholderText);
  header_->addWidget(title_);
  header_->addWidget(subtitle_);
  header_->addStretch(1);
  layout->addWidget(head);
  auto* line = new QFrame(this);
  line->setFrameShape(QFrame::HLine);
  line->setFrameShadow(QFrame::Plain);
  line->setForegroundRole(QPalette::Mid);
  layout->addWidget(line);
  layout->addWidget(content, 1);
}

void Panel::setTitle(const QString& text) { title_->setText(text); }
QString Panel::title() const { return title_->text(); }

void Panel::setSubtitle(const QString& text) { subtitle_->setText(text); }

void Panel::addHeaderWidget(QWidget* widget) { header_->addWidget(widget); }

}  // namespace gui
}  // namespace moe
