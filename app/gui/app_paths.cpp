#include "app/gui/app_paths.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace moe {
namespace gui {

QString demoDir() {
  QStringList candidates;
  const QString env = qEnvironmentVariable("MOESCOPE_DEMO_DIR");
  if (!env.isEmpty()) candidates << env;
  const QString exe = QCoreApplication::applicationDirPath();
  candidates << exe + "/../share/moescope/demo" << exe + "/resources/demo" << exe + "/../resources/demo"
             << exe + "/../../resources/demo";
#ifdef MOESCOPE_SOURCE_DEMO_DIR
  candidates << QStringLiteral(MOESCOPE_SOURCE_DEMO_DIR);
#endif
  for (const QString& c : candidates)
    if (QFileInfo::exists(c + "/demo-moe/config.json")) return QDir(c).canonicalPath();
  return {};
}

QString demoModelDir() {
  const QString d = demoDir();
  return d.isEmpty() ? QString() : d + "/demo-moe";
}

QString demoCalibration() {
  const QString d = demoDir();
  return d.isEmpty() ? QString() : d + "/calib.jsonl";
}

QString demoEvalText() {
  const QString d = demoDir();
  return d.isEmpty() ? QString() : d + "/eval.jsonl";
}

AnalysisRequest demoRequest(int sequences, int length) {
  AnalysisRequest r;
  r.modelDir = demoModelDir();
  r.calibration = demoCalibration();
  r.sequences = sequences;
  r.length = length;
  r.device = "cpu";
  r.storePath = cachedStorePath(r);
  return r;
}

QString cachedStorePath(const AnalysisRequest& r) {
  const QFileInfo model(r.modelDir), calib(r.calibration.section(':', 0, 0));
  const QString key = QStringList{model.canonicalFilePath(), calib.canonicalFilePath(),
                                  QString::number(calib.size()), calib.lastModified().toString(Qt::ISODate),
                                  r.calibration.section(':', 1), QString::number(r.sequences),
                                  QString::number(r.length), r.allTokens ? "all" : "routed", r.dtype}
                          .join('\n');
  const QString hash = QCryptographicHash::hash(key.toUtf8(), QCryptographicHash::Sha1).toHex().left(16);
  const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + "/analyses";
  QDir().mkpath(dir);
  return dir + "/" + model.fileName() + "-" + hash + ".h5";
}

}  // namespace gui
}  // namespace moe
