#pragma once
// First page: open the bundled demo, a model folder or an analysis, or a recent one; model folders
// and .h5 analyses can also be dropped anywhere on the window.
#include <QWidget>

class QListWidget;

namespace moe {
namespace gui {

class WelcomePage : public QWidget {
  Q_OBJECT

 public:
  explicit WelcomePage(QWidget* parent = nullptr);
  void refreshRecent();

 signals:
  void openDemoRequested();
  void openModelRequested();
  void openAnalysisRequested();
  void openPathRequested(const QString& path);

 private:
  QListWidget* recent_;
};

}  // namespace gui
}  // namespace moe
