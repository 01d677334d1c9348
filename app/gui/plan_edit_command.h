#pragma once
// One plan edit on the undo stack: the plan before and after. Consecutive edits of one drag
// gesture (same merge serial) collapse into one command.
#include <QUndoCommand>

#include "app/gui/plan_state.h"

namespace moe {
namespace gui {

class ExplorerDocument;

class PlanEditCommand : public QUndoCommand {
 public:
  PlanEditCommand(ExplorerDocument* doc, PlanState before, PlanState after, const QString& text, int mergeSerial);
  void undo() override;
  void redo() override;
  int id() const override { return mergeSerial_ >= 0 ? 1 : -1; }
  bool mergeWith(const QUndoCommand* other) override;

 private:
  ExplorerDocument* doc_;
  PlanState before_, after_;
  int mergeSerial_;
};

}  // namespace gui
}  // namespace moe
