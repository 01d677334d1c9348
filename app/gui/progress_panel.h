#pragma once
// The strip shown while a job runs (analysis, export): what it is doing, a progress bar with
// layer and expert, tokens/s and remaining time (or bytes written), and Cancel. It only displays;
// the runners do the work.
#include <QFrame>

#include "app/gui/analysis_request.h"

class QLabel;
class QProgressBar;
class QPushButton;

namespace moe {
namespace gui {

class ProgressPanel : public QFrame {
  Q_OBJECT

 public:
  explicit ProgressPanel(QWidget* parent = nullptr);
  void start(const QString& title);
  void setStatus(const QString& message);
  void setProgress(const AnalysisProgressInfo& info);
  void setByteProgress(qint64 done, qint64 total);
  void finish();
  QPushButton* cancelButton() const { return cancel_; }

 signals:
  void cancelRequested();

 private:
  QLabel* title_;
  QLabel* detail_;
  QProgressBar* bar_;
  QPushButton* cancel_;
};

// "1 min 05 s", "12 s".
QString formatSeconds(double seconds);

}  // namespace gui
}  // namespace moe
