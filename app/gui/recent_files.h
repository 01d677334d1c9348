#pragma once
// Recently opened models and analyses, most recent first, kept in the settings.
#include <QStringList>

namespace moe {
namespace gui {

QStringList recentFiles();
void addRecentFile(const QString& path);
void clearRecentFiles();

}  // namespace gui
}  // namespace moe
