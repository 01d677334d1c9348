#pragma once
// The explorer window: welcome page or explorer, plan toolbar, menus with shortcuts, undo history,
// analysis progress, drag and drop, and the settings it remembers between sessions.
#include <QMainWindow>
#include <functional>

#include "app/gui/analysis_data.h"
#include "app/gui/analysis_request.h"
#include "app/gui/export_request.h"

class QAction;
class QLabel;
class QMenu;
class QStackedWidget;

namespace moe {
namespace gui {

class AnalysisRunner;
class ExplorerDocument;
class ExplorerView;
class ExportRunner;
class JobGate;
class PlanBar;
class ProgressPanel;
class TryItPanel;
class WelcomePage;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  ExplorerDocument* document() const { return doc_; }
  ExplorerView* explorer() const { return explorer_; }
  PlanBar* planBar() const { return planBar_; }
  AnalysisRunner* runner() const { return runner_; }
  ProgressPanel* progressPanel() const { return progress_; }
  QAction* exportModelAction() const { return exportModel_; }
  // The "Try it" generation panel (a dock, View > Try It).
  TryItPanel* tryItPanel() const { return tryIt_; }

  void openDemo(int sequences = 0, int length = 0);  // 0: the configured defaults
  void analyse(const AnalysisRequest& request);
  void openAnalysis(const QString& storePath);
  void openPath(const QString& path);  // model folder, .h5 analysis or .json plan
  void startExport(const ExportRequest& request);
  ExportRunner* exportRunner() const { return exporter_; }
  // Every job start (analysis, opening a store, export, a dropped folder) goes through it.
  JobGate* jobGate() const { return gate_; }
  // When true, failures go to stderr instead of dialogs (screenshot mode, tests).
  void setQuiet(bool quiet) { quiet_ = quiet; }

 signals:
  void analysisLoaded();
  // A running analysis showed the MoE blocks analysed so far (the rest pending in the layer table).
  void partialAnalysisShown(int analysedBlocks);
  void analysisFailed(const QString& message);
  void exportFinished(const moe::gui::ExportSummary& summary);
  void exportFailed(const QString& message, bool cancelled);
  // Every problem the window reports (dialog or, when quiet, stderr), so tests and embedders can
  // observe it without a modal box.
  void problemShown(const QString& title, const QString& message);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void createCentralArea();
  void createHistoryDock();
  void createTryItDock();
  void createActions();
  void createMenus();
  void createFileMenu();
  void createEditMenu();
  void createViewMenu();
  void createHelpMenu();
  void connectWelcomePage();
  void connectExporter();
  void connectAnalysisRunner();
  void connectDocument();
  void connectJobGate();
  void finishAnalysisJob();  // the runner reported: its job (analysis or open) releases the gate
  void restoreWindowSettings();
  // Runs one user action; a moe::Error or any other std::exception becomes a message under
  // `title` (which names the file) instead of escaping the Qt event loop. True when it succeeded.
  bool guarded(const QString& title, const std::function<void()>& action);
  bool askAndAnalyse(const AnalysisRequest& request);  // the analysis dialog, then analyse(); false if not started
  void onStaleStore(const QString& storePath, const QString& reason, const moe::gui::AnalysisRequest& again);
  void onExportFinished(const moe::gui::ExportSummary& summary);
  void updateActions();
  void rebuildRecentMenu();
  void showProblem(const QString& title, const QString& message);
  void onAnalysisFinished();
  void chooseModel();
  void chooseAnalysis();
  void savePlan();
  void loadPlan();
  void exportFigure(int which);
  void exportData(int which);
  void exportMergedModel();
  void stepLayer(int delta);

  ExplorerDocument* doc_;
  AnalysisRunner* runner_;
  ExportRunner* exporter_;
  JobGate* gate_;
  QStackedWidget* stack_;
  WelcomePage* welcome_;
  ExplorerView* explorer_;
  PlanBar* planBar_;
  ProgressPanel* progress_;
  TryItPanel* tryIt_ = nullptr;
  QLabel* modelLabel_;
  QMenu* recentMenu_ = nullptr;
  QMenu* viewMenu_ = nullptr;
  QAction* openDemo_ = nullptr;
  QAction* openModel_ = nullptr;
  QAction* openAnalysis_ = nullptr;
  QAction* analyse_ = nullptr;
  QAction* savePlan_ = nullptr;
  QAction* loadPlan_ = nullptr;
  QAction* exportModel_ = nullptr;
  QList<QAction*> needsAnalysis_;
  AnalysisRequest lastRequest_;
  // What the explorer showed before the running analysis's partial results replaced it (restored
  // when that analysis fails or is cancelled); partialShown_: a partial result is on screen.
  AnalysisDataPtr beforePartial_;
  bool partialShown_ = false;
  double lastElapsed_ = 0;
  bool quiet_ = false;
};

}  // namespace gui
}  // namespace moe
