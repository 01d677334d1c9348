#pragma once
// Key numbers of the current plan under the layer navigator: experts kept, model size before and
// after, mean error proxy, export format and clustering choice. A read-only text view rather than
// a word-wrapped rich-text label: a label's new text re-runs the window's layout (its height for
// width, measured several times), which cost ~7 ms of every cut-line drag frame.
#include <QString>
#include <QTextBrowser>

namespace moe {
namespace gui {

class ExplorerDocument;
class RateLimitedAction;

class PlanSummary : public QTextBrowser {
  Q_OBJECT

 public:
  explicit PlanSummary(ExplorerDocument* doc, QWidget* parent = nullptr);

 private:
  void refresh();
  void display(const QString& html);
  ExplorerDocument* doc_;
  QString shown_;
  // Runs refresh(). Plan edits come at the rate of a cut-line drag (one per frame): the text is
  // laid out again at most every 100 ms (~1.5 ms per layout), the last edit always shown.
  RateLimitedAction* refresher_;
};

}  // namespace gui
}  // namespace moe
