#pragma once
// Interface language: the system locale by default, or the one chosen in the settings
// ("en", "zh_CN"); translations are compiled into the executable (:/i18n).
#include <QString>
#include <QStringList>

class QCoreApplication;

namespace moe {
namespace gui {

QStringList availableLanguages();               // "en", "zh_CN"
QString languageName(const QString& code);      // in that language, e.g. "简体中文"
QString configuredLanguage();                   // "" = follow the system
void setConfiguredLanguage(const QString& code);
// Installs the translators for `code` (or the configured/system language when empty).
void installTranslations(QCoreApplication& app, const QString& code = QString());

}  // namespace gui
}  // namespace moe
