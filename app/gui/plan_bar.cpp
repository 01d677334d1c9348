#include "app/gui/plan_bar.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>

#include "app/gui/explorer_document.h"
#include "app/gui/retranslate.h"

namespace moe {
namespace gui {
namespace {

const moe::LinkageMethod kLinkages[] = {moe::LinkageMethod::Average, moe::LinkageMethod::Single,
                                        moe::LinkageMethod::Complete, moe::LinkageMethod::Ward};
const moe::Representation kRepresentations[] = {moe::Representation::ExpertOutput,
                                                moe::Representation::ExpertOutputRouted,
                                                moe::Representation::RouterLogits, moe::Representation::Weights};
const char* const kMetrics[] = {"euclidean", "cosine"};
// Core's strategies (the CLI's --strategy choices), less "keep": K = E already keeps a block whole.
std::vector<moe::MergeStrategy> offeredStrategies() {
  std::vector<moe::MergeStrategy> out;
  for (moe::MergeStrategy s : moe::mergeStrategies())
    if (s != moe::MergeStrategy::Keep) out.push_back(s);
  return out;
}

QString strategyText(moe::MergeStrategy s) {
  switch (s) {
    case moe::MergeStrategy::FrequencyWeighted: return PlanBar::tr("Merge: frequency-weighted");
    case moe::MergeStrategy::Average: return PlanBar::tr("Merge: average");
    case moe::MergeStrategy::Dominant: return PlanBar::tr("Merge: dominant expert");
    case moe::MergeStrategy::Ream: return PlanBar::tr("Merge: REAM");
    case moe::MergeStrategy::PruneFrequency: return PlanBar::tr("Prune: F-prune");
    case moe::MergeStrategy::PruneReap: return PlanBar::tr("Prune: REAP");
    case moe::MergeStrategy::Keep: return PlanBar::tr("Keep");
  }
  return QString::fromLatin1(moe::mergeStrategyName(s));  // a strategy added to core later
}

template <typename T, size_t N>
int indexOf(const T (&values)[N], const T& v) {
  for (size_t i = 0; i < N; ++i)
    if (values[i] == v) return static_cast<int>(i);
  return 0;
}

int indexOf(const std::vector<moe::MergeStrategy>& values, moe::MergeStrategy v) {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] == v) return static_cast<int>(i);
  return 0;
}

}  // namespace

PlanBar::PlanBar(ExplorerDocument* doc, QWidget* parent) : QToolBar(parent), doc_(doc) {
  setObjectName("planBar");
  setMovable(false);
  onLanguageChange(this, [this] { setWindowTitle(tr("Plan")); });
  allocation_ = new QComboBox(this);
  translatedItems(this, allocation_, [] { return QStringList{tr("Uniform"), tr("Global frequency"), tr("Distance threshold")}; });
  addLabeled([] { return tr("Allocation"); }, allocation_);

  kLabel_ = new QLabel(tr("K"), this);
  kLabel_->setContentsMargins(8, 0, 4, 0);
  addWidget(kLabel_);
  kSlider_ = new QSlider(Qt::Horizontal, this);
  kSlider_->setMinimumWidth(140);
  kSlider_->setMaximumWidth(220);
  kActionSlider_ = addWidget(kSlider_);
  kSpin_ = new QSpinBox(this);
  kSpin_->setKeyboardTracking(false);
  kActionSpin_ = addWidget(kSpin_);
  height_ = new QDoubleSpinBox(this);
  height_->setDecimals(4);
  height_->setRange(0, 1e9);
  height_->setSingleStep(0.01);
  height_->setKeyboardTracking(false);
  heightAction_ = addWidget(height_);
  addSeparator();

  linkage_ = new QComboBox(this);
  translatedItems(this, linkage_, [] { return QStringList{tr("Average"), tr("Single"), tr("Complete"), tr("Ward")}; });
  addLabeled([] { return tr("Linkage"); }, linkage_);
  representation_ = new QComboBox(this);
  translatedItems(this, representation_, [] {
    return QStringList{tr("Expert output"), tr("Expert output (routed)"), tr("Router logits"), tr("Weights")};
  });
  addLabeled([] { return tr("Compare"); }, representation_);
  metric_ = new QComboBox(this);
  translatedItems(this, metric_, [] { return QStringList{tr("Euclidean"), tr("Cosine")}; });
  addLabeled([] { return tr("Distance"); }, metric_);
  addSeparator();
  strategy_ = new QComboBox(this);
  translatedItems(this, strategy_, [] {
    QStringList items;
    for (moe::MergeStrategy st : offeredStrategies()) items << strategyText(st);
    return items;
  });
  addLabeled([] { return tr("Strategy"); }, strategy_);
  align_ = new QCheckBox(this);
  addWidget(align_);
  onLanguageChange(this, [this] {
    allocation_->setToolTip(tr("How many clusters each layer keeps: the same K everywhere, HC-SMoE's global "
                               "usage-frequency rule, or one cut height for every tree"));
    kSlider_->setToolTip(tr("Clusters kept per layer (Ctrl+Up / Ctrl+Down)"));
    height_->setToolTip(tr("Every layer's tree is cut at this merge height"));
    linkage_->setToolTip(tr("Linkage of the hierarchical clustering (average is the paper's choice)"));
    representation_->setToolTip(tr("What an expert is represented by when experts are compared"));
    strategy_->setToolTip(tr("How each group becomes one expert (REAM: the K highest-REAP experts are the "
                             "centroids, every other expert joins its nearest centroid)"));
    align_->setText(tr("Align neurons"));
    align_->setToolTip(tr("Permute each member's neurons onto its group's reference expert before averaging "
                          "(calibration activations, one forward pass before a merge); for averaging strategies"));
    sync();  // the K label's text depends on the allocation
  });

  connect(allocation_, qOverload<int>(&QComboBox::activated), this,
          [this](int i) { doc_->editAllocation(static_cast<Allocation>(i)); });
  connect(kSlider_, &QSlider::valueChanged, this, [this](int k) { doc_->editGlobalK(k, kSlider_->isSliderDown()); });
  connect(kSlider_, &QSlider::sliderReleased, this, [this] {
    doc_->editGlobalK(kSlider_->value(), true);
    doc_->endInteractiveEdit();
  });
  connect(kSpin_, qOverload<int>(&QSpinBox::valueChanged), this, [this](int k) { doc_->editGlobalK(k); });
  connect(height_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, [this](double h) { doc_->editHeight(h); });
  connect(linkage_, qOverload<int>(&QComboBox::activated), this, [this](int i) { doc_->editLinkage(kLinkages[i]); });
  connect(representation_, qOverload<int>(&QComboBox::activated), this,
          [this](int i) { doc_->editRepresentation(kRepresentations[i]); });
  connect(metric_, qOverload<int>(&QComboBox::activated), this, [this](int i) { doc_->editMetric(kMetrics[i]); });
  connect(strategy_, qOverload<int>(&QComboBox::activated), this,
          [this](int i) { doc_->editStrategy(offeredStrategies().at(static_cast<size_t>(i))); });
  connect(align_, &QCheckBox::clicked, this, [this](bool on) { doc_->editAlignNeurons(on); });
  connect(doc_, &ExplorerDocument::planChanged, this, &PlanBar::sync);
  connect(doc_, &ExplorerDocument::analysisChanged, this, &PlanBar::sync);
  connect(doc_, &ExplorerDocument::shownClusteringChanged, this, &PlanBar::sync);
  // A rejected edit (e.g. Ward on cosine distances) leaves the document unchanged: show its state.
  connect(doc_, &ExplorerDocument::editRejected, this, &PlanBar::sync);
  sync();
}

void PlanBar::addLabeled(const std::function<QString()>& label, QWidget* widget) {
  auto* l = new QLabel(this);
  onLanguageChange(this, [l, label] { l->setText(label()); });
  l->setContentsMargins(8, 0, 4, 0);
  l->setBuddy(widget);
  addWidget(l);
  addWidget(widget);
}

void PlanBar::sync() {
  const bool has = doc_->hasAnalysis();
  for (QWidget* w : std::initializer_list<QWidget*>{allocation_, kSlider_, kSpin_, height_, linkage_, representation_,
                                                     metric_, strategy_, align_})
    w->setEnabled(has);
  if (!has) return;
  const PlanState& p = doc_->plan();
  const QSignalBlocker b1(allocation_), b2(kSlider_), b3(kSpin_), b4(height_), b5(linkage_), b6(representation_),
      b7(metric_), b8(strategy_), b9(align_);
  const int maxE = static_cast<int>(doc_->analysis().maxExperts());
  allocation_->setCurrentIndex(static_cast<int>(p.allocation));
  // Only when the range changes: a spin box's setRange asks for a new size hint even when the
  // range stays, and that re-ran the whole window's layout on every edit (~15 ms at 512 experts).
  if (kSlider_->maximum() != maxE) kSlider_->setRange(1, maxE);
  if (kSpin_->maximum() != maxE) kSpin_->setRange(1, maxE);
  if (!kSlider_->isSliderDown()) kSlider_->setValue(static_cast<int>(p.globalK));
  kSpin_->setValue(static_cast<int>(p.globalK));
  height_->setValue(p.height);
  const bool distance = p.allocation == Allocation::Distance;
  kActionSlider_->setVisible(!distance);
  kActionSpin_->setVisible(!distance);
  heightAction_->setVisible(distance);
  kLabel_->setText(distance ? tr("Height") : p.allocation == Allocation::Frequency ? tr("Mean K") : tr("K"));
  // A switch still being built shows its choice (the current layer's views draw it already).
  const PlanState shown = doc_->shownClustering();
  linkage_->setCurrentIndex(indexOf(kLinkages, shown.linkage));
  representation_->setCurrentIndex(indexOf(kRepresentations, shown.representation));
  metric_->setCurrentIndex(shown.metric == "cosine" ? 1 : 0);
  strategy_->setCurrentIndex(indexOf(offeredStrategies(), p.strategy));
  // The box shows what core builds (its default for the strategy until the user chooses), and only
  // where core averages members.
  const bool averages = moe::averagesMembers(p.strategy);
  align_->setEnabled(averages);
  bool aligned = false;
  for (int j = 0; j < doc_->numMoeLayers(); ++j) aligned = aligned || doc_->layerPlan(j).needsAlignment();
  align_->setChecked(averages && (p.alignNeurons ? *p.alignNeurons : aligned));
}

}  // namespace gui
}  // namespace moe
