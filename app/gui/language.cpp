#include "app/gui/language.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QPointer>
#include <QSettings>
#include <QTranslator>

namespace moe {
namespace gui {

QStringList availableLanguages() { return {"en", "zh_CN"}; }

QString languageName(const QString& code) {
  if (code == "zh_CN") return QStringLiteral("\u7b80\u4f53\u4e2d\u6587");
  return QStringLiteral("English");
}

QString configuredLanguage() { return QSettings().value("language").toString(); }

void setConfiguredLanguage(const QString& code) { QSettings().setValue("language", code); }

namespace {
// The translators installed last (owned by the application), removed when the language changes.
QPointer<QTranslator> installedMine, installedQt;
}  // namespace

void installTranslations(QCoreApplication& app, const QString& code) {
  QString lang = code.isEmpty() ? configuredLanguage() : code;
  QLocale locale = lang.isEmpty() ? QLocale::system() : QLocale(lang);
  QLocale::setDefault(locale);
  for (QPointer<QTranslator>* old : {&installedMine, &installedQt})
    if (*old) {
      app.removeTranslator(*old);
      delete old->data();
    }
  auto* mine = new QTranslator(&app);
  if (mine->load(locale, "moescope", "_", ":/i18n")) {
    app.installTranslator(mine);
    installedMine = mine;
  } else {
    delete mine;
  }
  auto* qt = new QTranslator(&app);
  if (qt->load(locale, "qtbase", "_", QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
    app.installTranslator(qt);
    installedQt = qt;
  } else {
    delete qt;
  }
}

}  // namespace gui
}  // namespace moe
