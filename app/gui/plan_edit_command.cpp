#include "app/gui/plan_edit_command.h"

#include "app/gui/explorer_document.h"

namespace moe {
namespace gui {

PlanEditCommand::PlanEditCommand(ExplorerDocument* doc, PlanState before, PlanState after, const QString& text,
                                 int mergeSerial)
    : doc_(doc), before_(std::move(before)), after_(std::move(after)), mergeSerial_(mergeSerial) {
  setText(text);
}

void PlanEditCommand::undo() { doc_->applyState(before_); }
void PlanEditCommand::redo() { doc_->applyState(after_); }

bool PlanEditCommand::mergeWith(const QUndoCommand* other) {
  const auto* o = dynamic_cast<const PlanEditCommand*>(other);
  if (!o || o->mergeSerial_ != mergeSerial_) return false;
  after_ = o->after_;
  setText(o->text());
  setObsolete(after_ == before_);
  return true;
}

}  // namespace gui
}  // namespace moe
