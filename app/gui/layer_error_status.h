#pragma once
// The Layers panel's indicator for exact layer errors: what the LayerErrorService is doing
// (building its calibration cache, scoring N entries, ready, cancelled, failed) with a progress
// bar, the percentage done and the time left, and a Cancel / Compute button. Only displays and
// forwards; the service does the work in its thread, so the views stay usable meanwhile.
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
  QString progressText() const;  // " · 42 % · about 1 min 05 s left", or what of it is known

  LayerErrorService* service_;
  QLabel* label_;
  QProgressBar* bar_;
  QToolButton* button_;
};

}  // namespace gui
}  // namespace moe
