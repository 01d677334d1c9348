#pragma once
// The Layers panel's indicator for exact layer errors: what the LayerErrorService is doing
// (building its calibration cache, scoring N entries, ready, cancelled, failed) with a progress
// bar and a Cancel / Compute button. Only displays and forwards; the service does the work.
#include <QWidget>

class QLabel;
class QProgressBar;
class QToolButton;

namespace moe {
namespace gui {

class LayerErrorService;

class LayerErrorStatus : public QWidget {
  Q_OBJECT

 public:
  LayerErrorStatus(LayerErrorService* service, QWidget* parent = nullptr);
  QToolButton* button() const { return button_; }
  QString text() const;

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void refresh();

  LayerErrorService* service_;
  QLabel* label_;
  QProgressBar* bar_;
  QToolButton* button_;
  int total_ = 0;  // entries pending when the current scoring run started (for the bar)
};

}  // namespace gui
}  // namespace moe
