#pragma once
// Preferences: interface language (applied at once), the defaults of new analyses and
// the held-out text and size of perplexity / KL / generation agreement measurements.
#include <QDialog>

class QComboBox;
class QLineEdit;
class QSpinBox;

namespace moe {
namespace gui {

class SettingsDialog : public QDialog {
  Q_OBJECT

 public:
  explicit SettingsDialog(QWidget* parent = nullptr);
  void accept() override;
  QComboBox* languageCombo() const;

 private:
  QComboBox* language_;
  QSpinBox* sequences_;
  QSpinBox* length_;
  QComboBox* device_;
  QLineEdit* evalText_;
  QSpinBox* evalSequences_;
  QSpinBox* evalLength_;
  QSpinBox* genPrompts_;
};

}  // namespace gui
}  // namespace moe
