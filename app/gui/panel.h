#pragma once
// A titled frame for one view: a header row (title, subtitle, optional controls) above the content.
#include <QFrame>

class QHBoxLayout;
class QLabel;

namespace moe {
namespace gui {

class Panel : public QFrame {
  Q_OBJECT

 public:
  Panel(const QString& title, QWidget* content, QWidget* parent = nullptr);
  void setTitle(const QString& text);
  QString title() const;
  void setSubtitle(const QString& text);
  void addHeaderWidget(QWidget* widget);  // right-aligned controls
  QWidget* content() const { return content_; }

 private:
  QLabel* title_;
  QLabel* subtitle_;
  QHBoxLayout* header_;
  QWidget* content_;
};

}  // namespace gui
}  // namespace moe
