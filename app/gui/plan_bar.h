#pragma once
// The plan toolbar: allocation preset, global K (slider and spin box) or cut height, linkage,
// representation, distance and merge strategy. Every change becomes a document edit; the bar
// follows the document (undo/redo included).
#include <QToolBar>
#include <functional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QSpinBox;

namespace moe {
namespace gui {

class ExplorerDocument;

class PlanBar : public QToolBar {
  Q_OBJECT

 public:
  explicit PlanBar(ExplorerDocument* doc, QWidget* parent = nullptr);

  QComboBox* linkageCombo() const { return linkage_; }
  QComboBox* representationCombo() const { return representation_; }
  QComboBox* allocationCombo() const { return allocation_; }
  QSlider* kSlider() const { return kSlider_; }
  QSpinBox* kSpin() const { return kSpin_; }
  QComboBox* strategyCombo() const { return strategy_; }
  QCheckBox* alignNeuronsBox() const { return align_; }

 private:
  void sync();
  void addLabeled(const std::function<QString()>& label, QWidget* widget);

  ExplorerDocument* doc_;
  QComboBox* allocation_;
  QLabel* kLabel_;
  QSlider* kSlider_;
  QSpinBox* kSpin_;
  QDoubleSpinBox* height_;
  QAction* kActionSlider_ = nullptr;
  QAction* kActionSpin_ = nullptr;
  QAction* heightAction_ = nullptr;
  QComboBox* linkage_;
  QComboBox* representation_;
  QComboBox* metric_;
  QComboBox* strategy_;
  QCheckBox* align_;
};

}  // namespace gui
}  // namespace moe
