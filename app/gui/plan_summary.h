#pragma once
// Key numbers of the current plan under the layer navigator: experts kept, model size before and
// after, mean error proxy, export format and clustering choice.
#include <QLabel>

namespace moe {
namespace gui {

class ExplorerDocument;

class PlanSummary : public QLabel {
  Q_OBJECT

 public:
  explicit PlanSummary(ExplorerDocument* doc, QWidget* parent = nullptr);

 private:
  void refresh();
  ExplorerDocument* doc_;
};

}  // namespace gui
}  // namespace moe
