#pragma once
// Live language switching: texts set from tr() in constructors must be set again when the
// translators change. onLanguageChange(owner, apply) runs `apply` now and again whenever `owner`
// receives QEvent::LanguageChange (Qt sends it to every widget after a translator is installed
// or removed), for as long as the owner lives.
#include <QString>
#include <functional>

class QAction;
class QComboBox;
class QWidget;

namespace moe {
namespace gui {

void onLanguageChange(QWidget* owner, std::function<void()> apply);
// Shorthands: an action's text, a combo box's item texts (items are added the first time).
void translatedText(QWidget* owner, QAction* action, std::function<QString()> text);
void translatedItems(QWidget* owner, QComboBox* combo, std::function<QStringList()> items);

}  // namespace gui
}  // namespace moe
