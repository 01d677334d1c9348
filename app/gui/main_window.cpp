#include "app/gui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QUrl>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolBar>
#include <QUndoStack>
#include <QUndoView>
#include <QVBoxLayout>
#include <cstdio>
#include <functional>

#include "app/gui/analysis_dialog.h"
#include "app/gui/analysis_estimate.h"
#include "app/gui/analysis_runner.h"
#include "app/gui/app_paths.h"
#include "app/gui/data_export.h"
#include "app/gui/explorer_document.h"
#include "app/gui/explorer_view.h"
#include "app/gui/export_dialog.h"
#include "app/gui/export_worker.h"
#include "app/gui/growing_label.h"
#include "app/gui/job_gate.h"
#include "app/gui/measure_worker.h"
#include "app/gui/plan_bar.h"
#include "app/gui/progress_panel.h"
#include "app/gui/recent_files.h"
#include "app/gui/retranslate.h"
#include "app/gui/settings_dialog.h"
#include "app/gui/try_it_panel.h"
#include "app/gui/welcome_page.h"
#include "core/error.h"
#include "widgets/dendrogram_view.h"
#include "widgets/heatmap_view.h"
#include "widgets/tradeoff_plot.h"
#include "widgets/usage_chart.h"

namespace moe {
namespace gui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(QStringLiteral("MoEScope"));
  setAcceptDrops(true);
  doc_ = new ExplorerDocument(this);
  runner_ = new AnalysisRunner(this);
  exporter_ = new ExportRunner(this);
  gate_ = new JobGate(this);
  createCentralArea();
  planBar_ = new PlanBar(doc_, this);
  createActions();
  createMenus();
  addToolBar(Qt::TopToolBarArea, planBar_);
  createHistoryDock();
  createTryItDock();
  modelLabel_ = new QLabel(this);
  statusBar()->addPermanentWidget(modelLabel_);
  statusBar()->showMessage(tr("Ready"));
  connectWelcomePage();
  connectExporter();
  connectAnalysisRunner();
  connectDocument();
  connectJobGate();
  restoreWindowSettings();
  updateActions();
}

// Progress panel above a stack of the welcome page and the explorer.
void MainWindow::createCentralArea() {
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  progress_ = new ProgressPanel(central);
  stack_ = new QStackedWidget(central);
  welcome_ = new WelcomePage(stack_);
  explorer_ = new ExplorerView(doc_, stack_);
  stack_->addWidget(welcome_);
  stack_->addWidget(explorer_);
  layout->addWidget(progress_);
  layout->addWidget(stack_, 1);
  setCentralWidget(central);
}

// The undo history as a dock, hidden until the View menu shows it.
void MainWindow::createHistoryDock() {
  auto* undoDock = new QDockWidget(this);
  undoDock->setObjectName("historyDock");
  auto* undoView = new QUndoView(doc_->undoStack(), undoDock);
  onLanguageChange(this, [undoDock, undoView] {
    undoDock->setWindowTitle(tr("History"));
    undoView->setEmptyLabel(tr("<analysis opened>"));
  });
  undoDock->setWidget(undoView);
  addDockWidget(Qt::RightDockWidgetArea, undoDock);
  undoDock->hide();
  viewMenu_->addAction(undoDock->toggleViewAction());
}

// "Try it": original and merged continuations of the same prompts, as a bottom dock hidden until
// View > Try It shows it; its generation holds the job gate.
void MainWindow::createTryItDock() {
  auto* dock = new QDockWidget(this);
  dock->setObjectName("tryItDock");
  tryIt_ = new TryItPanel(doc_, gate_, dock);
  dock->setWidget(tryIt_);
  addDockWidget(Qt::BottomDockWidgetArea, dock);
  dock->hide();
  QAction* toggle = dock->toggleViewAction();
  toggle->setShortcut(QKeySequence(tr("Ctrl+T")));
  onLanguageChange(this, [dock, toggle] {
    dock->setWindowTitle(tr("Try It"));
    toggle->setText(tr("Try It (Generate Text)"));
  });
  viewMenu_->addAction(toggle);
}

void MainWindow::connectWelcomePage() {
  connect(welcome_, &WelcomePage::openDemoRequested, this, [this] { openDemo(); });
  connect(welcome_, &WelcomePage::openModelRequested, this, &MainWindow::chooseModel);
  connect(welcome_, &WelcomePage::openAnalysisRequested, this, &MainWindow::chooseAnalysis);
  connect(welcome_, &WelcomePage::openPathRequested, this,
          [this](const QString& path) { guarded(tr("Cannot open %1").arg(path), [&] { openPath(path); }); });
}

void MainWindow::connectJobGate() {
  // Cancel stops the job that holds the gate (its own flag), never another one.
  connect(progress_, &ProgressPanel::cancelRequested, gate_, &JobGate::cancel);
  connect(gate_, &JobGate::busyChanged, this, &MainWindow::updateActions);
  connect(gate_, &JobGate::refused, this, [this](const QString& why) { statusBar()->showMessage(why, 8000); });
}

void MainWindow::finishAnalysisJob() {
  gate_->finish(JobGate::Job::Analysis);
  gate_->finish(JobGate::Job::OpenAnalysis);
}

void MainWindow::connectExporter() {
  connect(exporter_, &ExportRunner::progressed, progress_, &ProgressPanel::setByteProgress);
  connect(exporter_, &ExportRunner::fittingRouters, this, [this](int done, int total) {
    progress_->setStatus(tr("Fitting the compact routers: block %1 of %2").arg(done).arg(total));
  });
  connect(exporter_, &ExportRunner::finished, this, &MainWindow::onExportFinished);
  connect(exporter_, &ExportRunner::failed, this, [this](const QString& message, bool cancelled) {
    gate_->finish(JobGate::Job::Export);
    progress_->finish();
    updateActions();
    if (cancelled) statusBar()->showMessage(tr("Export cancelled; nothing was written."), 8000);
    else showProblem(tr("Export failed"), message);
    emit exportFailed(message, cancelled);
  });
}

void MainWindow::onExportFinished(const ExportSummary& s) {
  gate_->finish(JobGate::Job::Export);
  progress_->finish();
  updateActions();
  statusBar()->showMessage(tr("Exported %1").arg(s.folder), 10000);
  emit exportFinished(s);
  if (quiet_) return;
  QMessageBox box(QMessageBox::Information, tr("Export finished"),
                  tr("Wrote %1 tensors (%2) in %3 files to\n%4")
                      .arg(s.tensors)
                      .arg(QString::fromStdString(formatBytes(static_cast<double>(s.tensorBytes))))
                      .arg(s.files)
                      .arg(s.folder),
                  QMessageBox::Ok, this);
  QPushButton* open = box.addButton(tr("Open Folder"), QMessageBox::ActionRole);
  box.exec();
  if (box.clickedButton() == open) QDesktopServices::openUrl(QUrl::fromLocalFile(s.folder));
}

void MainWindow::connectAnalysisRunner() {
  connect(runner_, &AnalysisRunner::statusChanged, progress_, &ProgressPanel::setStatus);
  connect(runner_, &AnalysisRunner::progressed, this, [this](const AnalysisProgressInfo& p) {
    progress_->setProgress(p);
    lastElapsed_ = p.elapsedSeconds;
  });
  // Each analysed block shows as soon as it is stored (the rest pending); the final result replaces it.
  connect(runner_, &AnalysisRunner::partial, this, [this](const AnalysisDataPtr& data) {
    const bool same = partialShown_ && doc_->hasAnalysis() && doc_->analysis().storePath == data->storePath;
    const int layer = same ? doc_->currentLayer() : 0;
    if (!partialShown_) beforePartial_ = doc_->analysisPtr();
    if (!guarded(tr("Cannot show the analysis %1").arg(QString::fromStdString(data->storePath)),
                 [&] { doc_->setAnalysis(data); }))
      return;
    partialShown_ = true;
    if (layer > 0 && layer < doc_->numMoeLayers()) doc_->setCurrentLayer(layer);  // keep the user's layer
    stack_->setCurrentWidget(explorer_);
    updateActions();
    emit partialAnalysisShown(data->numMoeLayers());
  });
  connect(runner_, &AnalysisRunner::finished, this, [this](const AnalysisDataPtr& data) {
    partialShown_ = false;
    beforePartial_.reset();
    finishAnalysisJob();
    progress_->finish();
    const QString store = QString::fromStdString(data->storePath);
    if (!guarded(tr("Cannot show the analysis %1").arg(store), [&] { doc_->setAnalysis(data); })) {
      updateActions();
      return;
    }
    onAnalysisFinished();
  });
  connect(runner_, &AnalysisRunner::failed, this, [this](const QString& message, bool cancelled) {
    if (partialShown_) {  // the partial result goes: back to what was shown before the run
      partialShown_ = false;
      if (beforePartial_) guarded(tr("Cannot show the analysis"), [&] { doc_->setAnalysis(beforePartial_); });
      else stack_->setCurrentWidget(welcome_);
      beforePartial_.reset();
    }
    finishAnalysisJob();
    progress_->finish();
    updateActions();
    if (cancelled) {
      statusBar()->showMessage(tr("Analysis cancelled. Finished layers are kept; the next run resumes from them."));
    } else {
      showProblem(tr("Analysis failed"), message);
    }
    emit analysisFailed(message);
  });
  connect(runner_, &AnalysisRunner::staleStore, this, &MainWindow::onStaleStore);
}

void MainWindow::connectDocument() {
  connect(doc_, &ExplorerDocument::editRejected, this,
          [this](const QString& reason) { statusBar()->showMessage(tr("Edit not applied: %1").arg(reason), 8000); });
  connect(doc_, &ExplorerDocument::planChanged, this, [this] {
    if (!doc_->hasAnalysis()) return;
    const double mem = doc_->memoryAfterPlan();
    const AnalysisData& d = doc_->analysis();
    // The memory after the plan changes on every edit of a cut-line drag.
    setGrowingLabelText(modelLabel_, d.memory.known ? tr("%1 \u00b7 %2 \u2192 %3")
                                                          .arg(QFileInfo(QString::fromStdString(d.info.modelDir)).fileName(),
                                                               QString::fromStdString(formatBytes(d.memory.totalBytes)),
                                                               QString::fromStdString(formatBytes(mem)))
                                                    : QFileInfo(QString::fromStdString(d.info.modelDir)).fileName(),
                        8);
  });
}

void MainWindow::restoreWindowSettings() {
  QSettings s;
  restoreGeometry(s.value("window/geometry").toByteArray());
  restoreState(s.value("window/state").toByteArray());
  explorer_->restoreLayout(s.value("window/explorer").toByteArray());
  if (!s.contains("window/geometry")) resize(1500, 920);
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions() {
  openDemo_ = new QAction(QString(), this);
  translatedText(this, openDemo_, [] { return tr("Open &Demo"); });
  openModel_ = new QAction(QIcon::fromTheme("document-open"), QString(), this);
  translatedText(this, openModel_, [] { return tr("&Open Model\u2026"); });
  openModel_->setShortcut(QKeySequence::Open);
  openAnalysis_ = new QAction(QString(), this);
  translatedText(this, openAnalysis_, [] { return tr("Open &Analysis\u2026"); });
  openAnalysis_->setShortcut(QKeySequence(tr("Ctrl+Shift+O")));
  analyse_ = new QAction(QString(), this);
  translatedText(this, analyse_, [] { return tr("&Analyse Again\u2026"); });
  analyse_->setShortcut(QKeySequence(tr("Ctrl+R")));
  savePlan_ = new QAction(QIcon::fromTheme("document-save"), QString(), this);
  translatedText(this, savePlan_, [] { return tr("&Save Plan\u2026"); });
  savePlan_->setShortcut(QKeySequence::Save);
  loadPlan_ = new QAction(QString(), this);
  translatedText(this, loadPlan_, [] { return tr("&Load Plan\u2026"); });
  loadPlan_->setShortcut(QKeySequence(tr("Ctrl+L")));
  exportModel_ = new QAction(QString(), this);
  translatedText(this, exportModel_, [] { return tr("&Export Merged Model\u2026"); });
  exportModel_->setShortcut(QKeySequence(tr("Ctrl+E")));
  connect(openDemo_, &QAction::triggered, this, [this] { openDemo(); });
  connect(openModel_, &QAction::triggered, this, &MainWindow::chooseModel);
  connect(openAnalysis_, &QAction::triggered, this, &MainWindow::chooseAnalysis);
  connect(analyse_, &QAction::triggered, this, [this] { askAndAnalyse(lastRequest_); });
  connect(savePlan_, &QAction::triggered, this, &MainWindow::savePlan);
  connect(loadPlan_, &QAction::triggered, this, &MainWindow::loadPlan);
  connect(exportModel_, &QAction::triggered, this, &MainWindow::exportMergedModel);
  needsAnalysis_ = {savePlan_, loadPlan_, exportModel_};
}

void MainWindow::createMenus() {
  createFileMenu();
  createEditMenu();
  createViewMenu();
  createHelpMenu();
}

void MainWindow::createFileMenu() {
  QMenu* file = menuBar()->addMenu(QString());
  translatedText(this, file->menuAction(), [] { return tr("&File"); });
  file->addAction(openDemo_);
  file->addAction(openModel_);
  file->addAction(openAnalysis_);
  recentMenu_ = file->addMenu(QString());
  translatedText(this, recentMenu_->menuAction(), [] { return tr("Open &Recent"); });
  file->addSeparator();
  file->addAction(analyse_);
  file->addSeparator();
  file->addAction(loadPlan_);
  file->addAction(savePlan_);
  file->addAction(exportModel_);
  QMenu* figures = file->addMenu(QString());
  translatedText(this, figures->menuAction(), [] { return tr("Export &Figure"); });
  auto figureNames = [] {
    return QStringList{tr("Dendrogram\u2026"), tr("Distance Heatmap\u2026"), tr("Usage Chart\u2026"),
                       tr("Trade-off Plot\u2026")};
  };
  for (int i = 0; i < 4; ++i) {
    QAction* a = figures->addAction(QString(), this, [this, i] { exportFigure(i); });
    translatedText(this, a, [figureNames, i] { return figureNames()[i]; });
    needsAnalysis_ << a;
  }
  QMenu* data = file->addMenu(QString());
  translatedText(this, data->menuAction(), [] { return tr("Export &Data"); });
  auto dataNames = [] {
    return QStringList{tr("Distances (CSV)\u2026"), tr("Groups of Every Layer (JSON)\u2026"),
                       tr("Dendrogram (Newick)\u2026")};
  };
  for (int i = 0; i < 3; ++i) {
    QAction* a = data->addAction(QString(), this, [this, i] { exportData(i); });
    translatedText(this, a, [dataNames, i] { return dataNames()[i]; });
    needsAnalysis_ << a;
  }
  file->addSeparator();
  QAction* settings = file->addAction(QString(), this, [this] {
    guarded(tr("Cannot apply the settings"), [this] { SettingsDialog(this).exec(); });
  });
  translatedText(this, settings, [] { return tr("Se&ttings\u2026"); });
  settings->setShortcut(QKeySequence::Preferences);
  file->addSeparator();
  QAction* quit = file->addAction(QString(), this, &QWidget::close);
  translatedText(this, quit, [] { return tr("&Quit"); });
  quit->setShortcut(QKeySequence::Quit);
  connect(recentMenu_, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
}

void MainWindow::createEditMenu() {
  QMenu* edit = menuBar()->addMenu(QString());
  translatedText(this, edit->menuAction(), [] { return tr("&Edit"); });
  // Own undo/redo actions rather than QUndoStack's: their "Undo" prefix must follow a live language
  // switch (the commands' own texts stay in the language they were made in).
  QUndoStack* stack = doc_->undoStack();
  QAction* undo = new QAction(this);
  QAction* redo = new QAction(this);
  auto label = [this, stack, undo, redo] {
    undo->setText(stack->canUndo() ? tr("&Undo %1").arg(stack->undoText()) : tr("&Undo"));
    redo->setText(stack->canRedo() ? tr("&Redo %1").arg(stack->redoText()) : tr("&Redo"));
    undo->setEnabled(stack->canUndo());
    redo->setEnabled(stack->canRedo());
  };
  onLanguageChange(this, label);
  connect(stack, &QUndoStack::indexChanged, this, label);
  connect(stack, &QUndoStack::undoTextChanged, this, label);
  connect(stack, &QUndoStack::redoTextChanged, this, label);
  connect(undo, &QAction::triggered, stack, &QUndoStack::undo);
  connect(redo, &QAction::triggered, stack, &QUndoStack::redo);
  undo->setShortcut(QKeySequence::Undo);
  redo->setShortcuts({QKeySequence(tr("Ctrl+Shift+Z")), QKeySequence::Redo});
  edit->addAction(undo);
  edit->addAction(redo);
  edit->addSeparator();
  QAction* kUp = edit->addAction(QString(), this, [this] {
    if (doc_->hasAnalysis()) doc_->editGlobalK(std::min(doc_->plan().globalK + 1, doc_->analysis().maxExperts()));
  });
  translatedText(this, kUp, [] { return tr("More Clusters"); });
  kUp->setShortcut(QKeySequence(tr("Ctrl+Up")));
  QAction* kDown = edit->addAction(QString(), this, [this] {
    if (doc_->hasAnalysis()) doc_->editGlobalK(std::max<int64_t>(1, doc_->plan().globalK - 1));
  });
  translatedText(this, kDown, [] { return tr("Fewer Clusters"); });
  kDown->setShortcut(QKeySequence(tr("Ctrl+Down")));
  QAction* reset = edit->addAction(QString(), this, [this] { doc_->clearLayerOverrides(); });
  translatedText(this, reset, [] { return tr("Reset Per-Layer K"); });
  needsAnalysis_ << kUp << kDown << reset;
}

void MainWindow::createViewMenu() {
  QMenu* view = viewMenu_ = menuBar()->addMenu(QString());
  translatedText(this, viewMenu_->menuAction(), [] { return tr("&View"); });
  QAction* next = view->addAction(QString(), this, [this] { stepLayer(1); });
  translatedText(this, next, [] { return tr("Next Layer"); });
  next->setShortcut(QKeySequence(tr("Alt+Down")));
  QAction* prev = view->addAction(QString(), this, [this] { stepLayer(-1); });
  translatedText(this, prev, [] { return tr("Previous Layer"); });
  prev->setShortcut(QKeySequence(tr("Alt+Up")));
  QAction* home = view->addAction(QString(), this, [this] { stack_->setCurrentWidget(welcome_); });
  translatedText(this, home, [] { return tr("Welcome Page"); });
  QAction* explorerPage = view->addAction(QString(), this, [this] { stack_->setCurrentWidget(explorer_); });
  translatedText(this, explorerPage, [] { return tr("Explorer"); });
  needsAnalysis_ << next << prev << explorerPage;
  Q_UNUSED(home);
  view->addSeparator();
}

void MainWindow::createHelpMenu() {
  QMenu* help = menuBar()->addMenu(QString());
  translatedText(this, help->menuAction(), [] { return tr("&Help"); });
  QAction* about = help->addAction(QString(), this, [this] {
    QMessageBox::about(this, tr("About MoEScope"),
                       tr("<h3>MoEScope %1</h3><p>Inspect expert redundancy in Mixture-of-Experts models and "
                          "merge experts with HC-SMoE (hierarchical clustering of expert outputs, Chen et al., "
                          "ICML 2025).</p>")
                           .arg(QApplication::applicationVersion()));
  });
  translatedText(this, about, [] { return tr("&About MoEScope"); });
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  for (const QString& path : recentFiles()) recentMenu_->addAction(path, this, [this, path] {
      guarded(tr("Cannot open %1").arg(path), [&] { openPath(path); });
    });
  if (recentMenu_->isEmpty()) recentMenu_->addAction(tr("(none)"))->setEnabled(false);
  recentMenu_->addSeparator();
  recentMenu_->addAction(tr("Clear"), this, [this] {
    clearRecentFiles();
    welcome_->refreshRecent();
  });
}

void MainWindow::updateActions() {
  const bool has = doc_->hasAnalysis() && doc_->analysis().pendingLayers == 0;  // not a partial result
  const bool busy = gate_->isBusy();
  for (QAction* a : needsAnalysis_) a->setEnabled(has && !busy);
  for (QAction* a : {openDemo_, openModel_, openAnalysis_}) a->setEnabled(!busy);
  analyse_->setEnabled(!busy && !lastRequest_.modelDir.isEmpty());
  welcome_->setEnabled(!busy);
}

bool MainWindow::guarded(const QString& title, const std::function<void()>& action) {
  try {
    action();
    return true;
  } catch (const moe::Error& e) {
    showProblem(title, QString::fromStdString(e.what()));
  } catch (const std::exception& e) {  // a library's own exception (JSON, HDF5, std::stoi ...)
    showProblem(title, QString::fromStdString(e.what()));
  }
  return false;
}

void MainWindow::showProblem(const QString& title, const QString& message) {
  emit problemShown(title, message);
  if (quiet_) {
    std::fprintf(stderr, "%s: %s\n", qPrintable(title), qPrintable(message));
    return;
  }
  QMessageBox::warning(this, title, message);
}

void MainWindow::openDemo(int sequences, int length) {
  if (demoModelDir().isEmpty()) {
    showProblem(tr("Demo not found"), tr("The bundled demo model (resources/demo) was not found next to the "
                                         "executable. Set MOESCOPE_DEMO_DIR to its folder."));
    return;
  }
  QSettings s;
  analyse(demoRequest(sequences > 0 ? sequences : s.value("analysis/sequences", 32).toInt(),
                      length > 0 ? length : s.value("analysis/length", 256).toInt()));
}

void MainWindow::analyse(const AnalysisRequest& request) {
  const QString name = QFileInfo(request.modelDir).fileName();
  const CancelFlag job = gate_->tryStart(JobGate::Job::Analysis, tr("analysing %1").arg(name));
  if (!job) return;  // the gate said why in the status bar
  lastRequest_ = request;
  lastElapsed_ = 0;
  progress_->start(tr("Analysing %1").arg(name));
  runner_->analyse(request, job);
  updateActions();
}

void MainWindow::openAnalysis(const QString& storePath) {
  const QString name = QFileInfo(storePath).fileName();
  const CancelFlag job = gate_->tryStart(JobGate::Job::OpenAnalysis, tr("opening %1").arg(name));
  if (!job) return;
  lastRequest_ = AnalysisRequest{};
  progress_->start(tr("Opening %1").arg(name));
  runner_->open(storePath, job);
  addRecentFile(storePath);
  updateActions();
}

void MainWindow::openPath(const QString& path) {
  // A drop, a recent file or a command-line path while a job runs: refused before any dialog.
  if (gate_->refuseIfBusy()) return;
  const QFileInfo info(path);
  if (info.isDir()) {
    AnalysisRequest r = lastRequest_;
    QSettings s;
    r.modelDir = info.absoluteFilePath();
    if (r.calibration.isEmpty()) r.calibration = demoCalibration();
    r.sequences = s.value("analysis/sequences", 32).toInt();
    r.length = s.value("analysis/length", 256).toInt();
    r.device = s.value("analysis/device", "auto").toString();
    if (askAndAnalyse(r)) addRecentFile(r.modelDir);
  } else if (info.suffix().compare("json", Qt::CaseInsensitive) == 0 && doc_->hasAnalysis()) {
    guarded(tr("Cannot load the plan %1").arg(path), [&] { doc_->loadPlan(path); });
  } else {
    openAnalysis(path);
  }
}

bool MainWindow::askAndAnalyse(const AnalysisRequest& request) {
  AnalysisDialog dialog(request, this);
  if (dialog.exec() != QDialog::Accepted) return false;
  return guarded(tr("Cannot start the analysis of %1").arg(request.modelDir), [&] { analyse(dialog.request()); });
}

void MainWindow::onStaleStore(const QString& /*storePath*/, const QString& reason, const AnalysisRequest& again) {
  finishAnalysisJob();
  progress_->finish();
  updateActions();
  // `reason` (core's freshness check) names the store, the model folder and what changed.
  const QString message =
      tr("%1\n\nIts statistics and errors would describe another model, so it was not opened.").arg(reason);
  emit analysisFailed(message);
  if (quiet_) {
    showProblem(tr("Stale analysis"), message);
    return;
  }
  emit problemShown(tr("Stale analysis"), message);
  QMessageBox box(QMessageBox::Warning, tr("Stale analysis"), message, QMessageBox::Cancel, this);
  QPushButton* reanalyse = box.addButton(tr("Analyse Again\u2026"), QMessageBox::AcceptRole);
  box.setDefaultButton(reanalyse);
  box.exec();
  if (box.clickedButton() == reanalyse) askAndAnalyse(again);
}

void MainWindow::onAnalysisFinished() {
  const AnalysisData& d = doc_->analysis();
  if (!lastRequest_.modelDir.isEmpty() && lastElapsed_ > 0)
    rememberSpeed(estimateAnalysisFlops(lastRequest_), lastElapsed_);
  stack_->setCurrentWidget(explorer_);
  setWindowTitle(tr("%1 \u2014 MoEScope").arg(QFileInfo(QString::fromStdString(d.info.modelDir)).fileName()));
  statusBar()->showMessage(tr("%1 MoE layers \u00b7 %2 experts \u00b7 top-%3 \u00b7 %4 \u00d7 %5 calibration tokens \u00b7 %6")
                               .arg(d.numMoeLayers())
                               .arg(d.info.numExperts)
                               .arg(d.info.topK)
                               .arg(d.info.tokenShape.size() == 2 ? d.info.tokenShape[0] : 0)
                               .arg(d.info.tokenShape.size() == 2 ? d.info.tokenShape[1] : 0)
                               .arg(QString::fromStdString(d.storePath)));
  welcome_->refreshRecent();
  updateActions();
  emit analysisLoaded();
}

void MainWindow::chooseModel() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Model Folder"),
                                                        QSettings().value("lastDir").toString());
  if (dir.isEmpty()) return;
  QSettings().setValue("lastDir", dir);
  openPath(dir);
}

void MainWindow::chooseAnalysis() {
  const QString file = QFileDialog::getOpenFileName(this, tr("Open Analysis"), QSettings().value("lastDir").toString(),
                                                    tr("MoEScope analyses (*.h5);;All files (*)"));
  if (file.isEmpty()) return;
  QSettings().setValue("lastDir", QFileInfo(file).absolutePath());
  openAnalysis(file);
}

void MainWindow::savePlan() {
  const QString file = QFileDialog::getSaveFileName(this, tr("Save Plan"), QSettings().value("lastDir").toString() + "/plan.json",
                                                    tr("Merge plans (*.json)"));
  if (file.isEmpty()) return;
  if (guarded(tr("Cannot save the plan %1").arg(file), [&] { doc_->savePlan(file); }))
    statusBar()->showMessage(tr("Saved %1").arg(file), 5000);
}

void MainWindow::loadPlan() {
  const QString file = QFileDialog::getOpenFileName(this, tr("Load Plan"), QSettings().value("lastDir").toString(),
                                                    tr("Merge plans (*.json)"));
  if (!file.isEmpty()) openPath(file);
}

void MainWindow::exportFigure(int which) {
  QCustomPlot* plots[] = {explorer_->dendrogram(), explorer_->heatmap(), explorer_->usageChart(), explorer_->tradeoff()};
  const char* names[] = {"dendrogram", "distances", "usage", "tradeoff"};
  QString file = QFileDialog::getSaveFileName(
      this, tr("Export Figure"),
      QSettings().value("lastDir").toString() + QString("/%1-layer%2.png").arg(names[which]).arg(doc_->currentLayer()),
      tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"));
  if (file.isEmpty()) return;
  if (QFileInfo(file).suffix().isEmpty()) file += ".png";
  if (guarded(tr("Cannot export the figure %1").arg(file), [&] { saveFigure(plots[which], file); }))
    statusBar()->showMessage(tr("Saved %1").arg(file), 5000);
}

void MainWindow::exportData(int which) {
  const QString filters[] = {tr("CSV (*.csv)"), tr("JSON (*.json)"), tr("Newick (*.nwk *.newick)")};
  const QString names[] = {QString("distances-layer%1.csv").arg(doc_->currentLayer()), QString("groups.json"),
                           QString("dendrogram-layer%1.nwk").arg(doc_->currentLayer())};
  const QString file = QFileDialog::getSaveFileName(this, tr("Export Data"),
                                                    QSettings().value("lastDir").toString() + "/" + names[which],
                                                    filters[which]);
  if (file.isEmpty()) return;
  doc_->settleSwitch();  // the groups and tree the views show
  const bool saved = guarded(tr("Cannot export the data %1").arg(file), [&] {
    if (which == 0) saveDistancesCsv(*doc_, doc_->currentLayer(), file);
    if (which == 1) saveGroupsJson(*doc_, file);
    if (which == 2) saveNewick(*doc_, doc_->currentLayer(), file);
  });
  if (saved) statusBar()->showMessage(tr("Saved %1").arg(file), 5000);
}

void MainWindow::exportMergedModel() {
  if (!doc_->hasAnalysis()) return;
  doc_->settleSwitch();  // export the clustering choice the user sees
  ExportDialog dialog(*doc_, this);
  if (dialog.exec() == QDialog::Accepted)
    guarded(tr("Cannot export the merged model"), [&] { startExport(dialog.request()); });
}

void MainWindow::startExport(const ExportRequest& request) {
  const QString name = QFileInfo(request.target).fileName();
  const CancelFlag job = gate_->tryStart(JobGate::Job::Export, tr("exporting to %1").arg(name));
  if (!job) return;
  progress_->start(tr("Exporting to %1").arg(name));
  exporter_->start(request, job);
  updateActions();
}

void MainWindow::stepLayer(int delta) {
  if (!doc_->hasAnalysis()) return;
  const int n = doc_->numMoeLayers();
  doc_->setCurrentLayer((doc_->currentLayer() + delta + n) % n);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  s.setValue("window/explorer", explorer_->saveLayout());
  // Every job stops at its next check (an expert, a tensor, a decoder layer, a score), so the
  // runners' destructors join their threads quickly; an export removes its partial folder.
  gate_->cancel();
  runner_->cancel();
  exporter_->cancel();
  doc_->errorService()->cancel();
  explorer_->measureRunner()->cancel();
  tryIt_->cancel();
  event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.size() == 1 && urls.front().isLocalFile()) {
    const QFileInfo info(urls.front().toLocalFile());
    if ((info.isDir() && QFileInfo::exists(info.filePath() + "/config.json")) ||
        info.suffix().compare("h5", Qt::CaseInsensitive) == 0 || info.suffix().compare("json", Qt::CaseInsensitive) == 0)
      event->acceptProposedAction();
  }
}

void MainWindow::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.isEmpty()) return;
  const QString path = urls.front().toLocalFile();
  guarded(tr("Cannot open %1").arg(path), [&] { openPath(path); });
}

}  // namespace gui
}  // namespace moe
