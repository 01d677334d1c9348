#pragma once
// Export dialog: format (compact / expert map), compact router, output folder and shard size, with
// what the plan will produce; the export itself runs in the ExportRunner.
#include <QDialog>

#include "app/gui/export_request.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace moe {
namespace gui {

class ExplorerDocument;

// The request for the document's current plan (throws moe::Error when the plan cannot be written
// in that format, e.g. compact with different K per layer).
ExportRequest makeExportRequest(const ExplorerDocument& doc, moe::ExportFormat format, moe::RouterMode router,
                                const QString& target, qint64 shardBytes);

class ExportDialog : public QDialog {
  Q_OBJECT

 public:
  explicit ExportDialog(const ExplorerDocument& doc, QWidget* parent = nullptr);
  ExportRequest request() const;
  QComboBox* formatCombo() const { return format_; }
  QComboBox* routerCombo() const { return router_; }
  QLineEdit* targetEdit() const { return target_; }
  void accept() override;

 private:
  void updateSummary();

  const ExplorerDocument& doc_;
  QComboBox* format_;
  QComboBox* router_;
  QLineEdit* target_;
  QComboBox* precision_ = nullptr;
  QSpinBox* shard_;
  QLabel* summary_;
};

}  // namespace gui
}  // namespace moe
