#include "app/gui/retranslate.h"

#include <QAction>
#include <QComboBox>
#include <QEvent>
#include <QWidget>

namespace moe {
namespace gui {
namespace {

// Child of the owner, so it goes away with it; filters the owner's events for LanguageChange.
class LanguageWatcher : public QObject {
 public:
  LanguageWatcher(QWidget* owner, std::function<void()> apply) : QObject(owner), apply_(std::move(apply)) {
    owner->installEventFilter(this);
    apply_();
  }
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (event->type() == QEvent::LanguageChange && watched == parent()) apply_();
    return false;
  }

 private:
  std::function<void()> apply_;
};

}  // namespace

void onLanguageChange(QWidget* owner, std::function<void()> apply) { new LanguageWatcher(owner, std::move(apply)); }

void translatedText(QWidget* owner, QAction* action, std::function<QString()> text) {
  onLanguageChange(owner, [action, text = std::move(text)] { action->setText(text()); });
}

void translatedItems(QWidget* owner, QComboBox* combo, std::function<QStringList()> items) {
  onLanguageChange(owner, [combo, items = std::move(items)] {
    const QStringList texts = items();
    if (combo->count() == 0) {
      combo->addItems(texts);
      return;
    }
    for (int i = 0; i < texts.size() && i < combo->count(); ++i) combo->setItemText(i, texts[i]);
  });
}

}  // namespace gui
}  // namespace moe
