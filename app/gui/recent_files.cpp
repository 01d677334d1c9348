#include "app/gui/recent_files.h"

#include <QFileInfo>
#include <QSettings>

namespace moe {
namespace gui {

namespace {
constexpr int kMaxRecent = 10;
}

QStringList recentFiles() {
  QStringList out;
  for (const QString& p : QSettings().value("recentFiles").toStringList())
    if (QFileInfo::exists(p)) out << p;
  return out;
}

void addRecentFile(const QString& path) {
  QStringList list = QSettings().value("recentFiles").toStringList();
  const QString abs = QFileInfo(path).absoluteFilePath();
  list.removeAll(abs);
  list.prepend(abs);
  while (list.size() > kMaxRecent) list.removeLast();
  QSettings().setValue("recentFiles", list);
}

void clearRecentFiles() { QSettings().remove("recentFiles"); }

}  // namespace gui
}  // namespace moe
