#pragma once
// Preferences: interface language (applied at the next start) and the defaults of new analyses.
#include <QDialog>

class QComboBox;
class QSpinBox;

namespace moe {
namespace gui {

class SettingsDialog : public QDialog {
  Q_OBJECT

 public:
  explicit SettingsDialog(QWidget* parent = nullptr);
  void accept() override;

 private:
  QComboBox* language_;
  QSpinBox* sequences_;
  QSpinBox* length_;
  QComboBox* device_;
};

}  // namespace gui
}  // namespace moe
