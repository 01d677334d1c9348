#pragma once
// Interface language: the system locale by default, or the one chosen in the settings
// ("en", "zh_CN"), switchable at run time; translations are compiled into the executable (:/i18n).
#include <QString>
#include <QStringList>

class QCoreApplication;

namespace moe {
namespace gui {

QStringList availableLanguages();               // "en", "zh_CN"
QString languageName(const QString& code);      // in that language, e.g. "简体中文"
QString configuredLanguage();                   // "" = follow the system
void setConfiguredLanguage(const QString& code);
// Installs the translators for `code` (or the configured/system language when empty), replacing
// the ones a previous call installed; Qt then sends QEvent::LanguageChange to every widget, which
// retranslates itself (retranslate.h), so the switch takes effect without a restart.
void installTranslations(QCoreApplication& app, const QString& code = QString());

}  // namespace gui
}  // namespace moe
