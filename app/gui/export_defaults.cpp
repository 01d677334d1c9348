#include "app/gui/export_defaults.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include "app/gui/app_paths.h"

namespace moe {
namespace gui {
namespace {

// Canonical where the path exists (symbolic links resolved), else cleaned and absolute.
QString normalised(const QString& path) {
  const QFileInfo info(path);
  const QString canonical = info.canonicalFilePath();
  return canonical.isEmpty() ? QDir::cleanPath(info.absoluteFilePath()) : canonical;
}

// The application's own folders: its executable's and the bundled demo's.
bool isApplicationFolder(const QString& path) {
  for (const QString& own : {QCoreApplication::applicationDirPath(), demoDir()})
    if (!own.isEmpty() && isInsideFolder(path, own)) return true;
  return false;
}

}  // namespace

moe::RouterMode defaultCompactRouter() { return moe::RouterMode::TiedFit; }

bool isInsideFolder(const QString& path, const QString& folder) {
  const QString p = normalised(path), f = normalised(folder);
  return p == f || p.startsWith(f.endsWith('/') ? f : f + '/');
}

QString defaultExportFolder(const QString& modelDir, const QString& name) {
  const QFileInfo model(normalised(modelDir));
  const QString beside = model.absolutePath();  // the model folder's parent
  QString base = beside;
  if (!QFileInfo(beside).isWritable() || isApplicationFolder(beside)) {
    base = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    if (base.isEmpty()) base = QDir::homePath();
  }
  QString folder = base + "/" + name;
  for (int n = 2; QFileInfo::exists(folder); ++n) folder = base + "/" + name + "-" + QString::number(n);
  return folder;
}

}  // namespace gui
}  // namespace moe
