#pragma once
// Chooses what to analyse: model folder, calibration source (bundled text or a file), sequences x
// length, statistic, device and dtype, with the estimated time.
#include <QDialog>

#include "app/gui/analysis_request.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace moe {
namespace gui {

class AnalysisDialog : public QDialog {
  Q_OBJECT

 public:
  explicit AnalysisDialog(const AnalysisRequest& initial, QWidget* parent = nullptr);
  AnalysisRequest request() const;

 private:
  void updateEstimate();
  QString calibrationPath() const;

  QLineEdit* model_;
  QComboBox* source_;
  QLineEdit* file_;
  QSpinBox* sequences_;
  QSpinBox* length_;
  QComboBox* statistic_;
  QComboBox* device_;
  QComboBox* dtype_;
  QLabel* estimate_;
};

}  // namespace gui
}  // namespace moe
