#include "app/gui/plan_summary.h"

#include <cmath>

#include "app/gui/explorer_document.h"
#include "app/gui/rate_limited_action.h"
#include "app/gui/retranslate.h"

namespace moe {
namespace gui {

PlanSummary::PlanSummary(ExplorerDocument* doc, QWidget* parent) : QTextBrowser(parent), doc_(doc) {
  setFrameShape(QFrame::NoFrame);
  setOpenLinks(false);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setTextInteractionFlags(Qt::TextSelectableByMouse);
  viewport()->setAutoFillBackground(false);  // the panel's background, as a label has
  document()->setDocumentMargin(10);
  refresher_ = new RateLimitedAction(100, [this] { refresh(); }, this);
  connect(doc_, &ExplorerDocument::planChanged, refresher_, &RateLimitedAction::request);
  connect(doc_, &ExplorerDocument::analysisChanged, refresher_, &RateLimitedAction::run);
  // Results and status changes come in bursts: one refresh per burst interval for any number of them.
  connect(doc_, &ExplorerDocument::errorsChanged, refresher_, [this] { refresher_->requestIn(RateLimitedAction::kResultBurstMs); });
  onLanguageChange(this, [this] { refresher_->run(); });
}

void PlanSummary::refresh() {
  if (!doc_->hasAnalysis()) return display(QString());
  const AnalysisData& d = doc_->analysis();
  int64_t kept = 0, total = 0;
  bool uniform = true;
  for (int j = 0; j < doc_->numMoeLayers(); ++j) {
    kept += doc_->k(j);
    total += doc_->stats(j).numExperts;
    uniform = uniform && doc_->k(j) == doc_->k(0);
  }
  const QString row = QStringLiteral("<tr><td style='padding-right:14px'>%1</td><td><b>%2</b></td></tr>");
  QString html = "<table cellspacing='3'>";
  html += row.arg(tr("Experts kept"), tr("%1 of %2 (%3 %)").arg(kept).arg(total).arg(100.0 * kept / std::max<int64_t>(total, 1), 0, 'f', 0));
  if (d.memory.known) {
    const double after = doc_->memoryAfterPlan();
    html += row.arg(tr("Model size"), tr("%1 \u2192 %2 (\u2212%3 %)")
                                          .arg(QString::fromStdString(formatBytes(d.memory.totalBytes)),
                                               QString::fromStdString(formatBytes(after)))
                                          .arg(100.0 * (1 - after / d.memory.totalBytes), 0, 'f', 1));
  }
  const bool exact = doc_->planErrorsExact();
  const double err = doc_->meanError(exact);
  if (err >= 0)
    html += row.arg(exact ? tr("Output error (mean, tied)") : tr("Output error (estimate)"),
                    (exact ? QString() : QStringLiteral("\u2248")) + QString::number(err, 'f', 3));
  html += row.arg(tr("Export format"), uniform ? tr("compact (K = %1 everywhere)").arg(doc_->k(0))
                                               : tr("expert map (K per layer)"));
  const PlanState& p = doc_->plan();
  const QString linkage[] = {tr("Single"), tr("Complete"), tr("Average"), tr("Ward")};
  const QString representation[] = {tr("Expert output"), tr("Expert output (routed)"), tr("Router logits"),
                                    tr("Weights")};
  html += row.arg(tr("Clustering"), tr("%1 linkage \u00b7 %2 \u00b7 %3")
                                        .arg(linkage[static_cast<int>(p.linkage)],
                                             representation[static_cast<int>(p.representation)],
                                             p.metric == "cosine" ? tr("Cosine") : tr("Euclidean")));
  html += "</table>";
  display(html);
}

void PlanSummary::display(const QString& html) {
  if (html == shown_) return;
  shown_ = html;
  setHtml(html);
  // Tall enough for the whole table; the window's layout runs again only when that height changes.
  const int height = static_cast<int>(std::ceil(document()->size().height())) + 2 * frameWidth();
  if (height != minimumHeight()) setMinimumHeight(height);
}

}  // namespace gui
}  // namespace moe
