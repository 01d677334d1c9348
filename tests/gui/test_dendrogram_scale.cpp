// The dendrogram at 256 experts (issue 11): zoom and pan, folding clusters, label thinning, the
// overview strip, revealing an expert, both orientations, and the cluster colouring.
// Expected values are computed here from the linkage (core's cutTree, leaf positions) and from
// plain geometry, never read back from the view's own bookkeeping.
#include <QApplication>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QWheelEvent>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "core/cluster/distance.h"
#include "core/cluster/linkage.h"
#include "core/cluster/tree.h"
#include "widgets/cluster_palette.h"
#include "widgets/dendrogram_view.h"

using moe::widgets::ClusterColoring;
using moe::widgets::DendrogramView;

namespace {

constexpr int64_t kExperts = 256;
constexpr int64_t kClusters = 40;

void sendMouse(QWidget* w, QEvent::Type type, QPointF pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
  QMouseEvent e(type, pos, w->mapToGlobal(pos), button, buttons, Qt::NoModifier);
  QApplication::sendEvent(w, &e);
}

void click(QWidget* w, QPointF pos) {
  sendMouse(w, QEvent::MouseButtonPress, pos, Qt::LeftButton, Qt::LeftButton);
  sendMouse(w, QEvent::MouseButtonRelease, pos, Qt::LeftButton, Qt::NoButton);
}

// CIE76 colour difference (sRGB -> CIELAB, D65), written out independently of the palette code.
double deltaE(const QColor& a, const QColor& b) {
  auto lab = [](const QColor& c) {
    auto lin = [](double v) { return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
    const double r = lin(c.redF()), g = lin(c.greenF()), bl = lin(c.blueF());
    const double x = (0.4124 * r + 0.3576 * g + 0.1805 * bl) / 0.95047;
    const double y = 0.2126 * r + 0.7152 * g + 0.0722 * bl;
    const double z = (0.0193 * r + 0.1192 * g + 0.9505 * bl) / 1.08883;
    auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; };
    return std::array<double, 3>{116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
  };
  const auto p = lab(a), q = lab(b);
  return std::sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]));
}

bool anyOverlap(const std::vector<QRectF>& rects, QString* which) {
  for (size_t i = 0; i < rects.size(); ++i)
    for (size_t j = i + 1; j < rects.size(); ++j)
      if (rects[i].intersects(rects[j])) {
        QDebug(which) << rects[i] << rects[j];
        return true;
      }
  return false;
}

}  // namespace

class DendrogramScaleTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void init();
  void zoomChangesVisibleRangeAndDrawing();
  void wheelZoomsAroundCursorAndDragPans();
  void keyboardZoomPanAndHome();
  void cutLineDragStillSetsK();
  void foldShowsOneNodePerCluster();
  void clickingFoldedClusterSelectsAndUnfoldsIt();
  void labelsNeverOverlap();
  void overviewStripMovesTheView();
  void revealExpertCentresAndSelects();
  void coloringGreysSmallClustersAndSeparatesTopOnes();
  void coloringKeepsEveryClusterDistinctUpToTwelve();
  void viewColoursAgreeWithColoring();
  void smallTreeLabelsEveryLeafWithUsage();
  void horizontalOrientationKeepsInteractions();
  void fiveHundredTwelveExperts();

 private:
  double leafPixel(int64_t position) const;

  moe::Linkage z_;
  moe::Tree tree_;
  std::vector<double> usage_;
  std::vector<int64_t> labels_;                    // cutTree at kClusters
  std::map<int64_t, std::set<int64_t>> members_;   // by label
  std::unique_ptr<DendrogramView> view_;
};

void DendrogramScaleTest::initTestCase() {
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  const int64_t dim = 6;
  std::vector<double> data(static_cast<size_t>(kExperts * dim));
  for (double& v : data) v = normal(rng);
  z_ = moe::linkage(moe::pdist(data.data(), kExperts, dim, moe::DistanceMetric::Euclidean), moe::LinkageMethod::Ward);
  tree_ = moe::buildTree(z_);
  std::uniform_real_distribution<double> uni(0.1, 1.0);
  double sum = 0;
  for (int64_t e = 0; e < kExperts; ++e) sum += usage_.emplace_back(uni(rng));
  for (double& u : usage_) u /= sum;
  labels_ = moe::cutTree(z_, kClusters);
  for (int64_t e = 0; e < kExperts; ++e) members_[labels_[static_cast<size_t>(e)]].insert(e);
  QCOMPARE(static_cast<int64_t>(members_.size()), kClusters);
}

void DendrogramScaleTest::init() {
  view_ = std::make_unique<DendrogramView>();
  view_->resize(1100, 620);
  view_->show();
  QVERIFY(QTest::qWaitForWindowExposed(view_.get()));
  view_->setTree(z_, usage_);
  view_->setClusters(kClusters, labels_);
  view_->replot();
}

double DendrogramScaleTest::leafPixel(int64_t position) const {
  return view_->leafAxis()->coordToPixel(static_cast<double>(position));
}

void DendrogramScaleTest::zoomChangesVisibleRangeAndDrawing() {
  QCOMPARE(view_->drawnLeafCount(), kExperts);
  const size_t labelsFull = view_->drawnLabelRects().size();
  QVERIFY(labelsFull > 10 && labelsFull < static_cast<size_t>(kExperts));  // thinned, not gone
  QSignalSpy spy(view_.get(), &DendrogramView::leafRangeChanged);
  view_->zoomLeaves(8.0, 100.0);
  view_->replot();
  QCOMPARE(spy.count(), 1);
  const double first = spy.at(0).at(0).toDouble(), last = spy.at(0).at(1).toDouble();
  QCOMPARE(view_->leafRange().lower, first);
  QCOMPARE(view_->leafRange().upper, last);
  QVERIFY(std::abs((last - first) - (kExperts + 0.4) / 8.0) < 1e-9);
  QVERIFY(first < 100.0 && last > 100.0);
  // Exactly the leaves whose positions lie in the range, in leaf order.
  std::vector<int64_t> expected;
  for (int64_t p = static_cast<int64_t>(std::ceil(first)); p <= static_cast<int64_t>(std::floor(last)); ++p)
    expected.push_back(tree_.leafOrder[static_cast<size_t>(p)]);
  QCOMPARE(view_->drawnLeaves(), expected);
  // Zoomed in, every visible leaf has room for its label.
  QCOMPARE(view_->drawnLabelRects().size(), expected.size());
  // setLeafRange follows another view without echoing back.
  view_->setLeafRange(10, 30);
  QCOMPARE(spy.count(), 1);
  QCOMPARE(view_->leafRange().lower, 10.0);
  QCOMPARE(view_->leafRange().upper, 30.0);
  view_->fitAll();
  QCOMPARE(spy.count(), 2);
  QCOMPARE(spy.at(1).at(0).toDouble(), -0.7);
  QCOMPARE(spy.at(1).at(1).toDouble(), kExperts - 0.3);
}

void DendrogramScaleTest::wheelZoomsAroundCursorAndDragPans() {
  const QRect ar = view_->axisRect()->rect();
  const QPointF at(ar.left() + 0.3 * ar.width(), ar.center().y());
  const double before = view_->leafAxis()->pixelToCoord(at.x());
  QWheelEvent wheel(at, view_->mapToGlobal(at), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier,
                    Qt::NoScrollPhase, false);
  QApplication::sendEvent(view_.get(), &wheel);
  QVERIFY(view_->leafRange().size() < (kExperts + 0.4) / 1.4);
  QVERIFY(std::abs(view_->leafAxis()->pixelToCoord(at.x()) - before) < 1e-6);  // the point under the cursor stays
  // Drag away from the cut line: a pan, not a selection and not a cut.
  QSignalSpy clicked(view_.get(), &DendrogramView::subtreeClicked);
  QSignalSpy k(view_.get(), &DendrogramView::kRequested);
  const QCPRange r0 = view_->leafRange();
  const double pixelsPerLeaf = ar.width() / r0.size();
  QPointF p(ar.center().x(), ar.top() + 12);
  QVERIFY(std::abs(p.y() - view_->cutLinePixel()) > 20);
  sendMouse(view_.get(), QEvent::MouseButtonPress, p, Qt::LeftButton, Qt::LeftButton);
  for (int i = 1; i <= 5; ++i)
    sendMouse(view_.get(), QEvent::MouseMove, p + QPointF(20.0 * i, 0), Qt::NoButton, Qt::LeftButton);
  sendMouse(view_.get(), QEvent::MouseButtonRelease, p + QPointF(100, 0), Qt::LeftButton, Qt::NoButton);
  QCOMPARE(clicked.count(), 0);
  QCOMPARE(k.count(), 0);
  // Dragging right shows what lay to the left: the range moves by 100 pixels' worth of leaves.
  QVERIFY(std::abs(view_->leafRange().lower - (r0.lower - 100 / pixelsPerLeaf)) < 1e-6);
  QVERIFY(std::abs(view_->leafRange().size() - r0.size()) < 1e-9);
}

void DendrogramScaleTest::keyboardZoomPanAndHome() {
  view_->setFocus();
  const double full = view_->leafRange().size();
  QTest::keyClick(view_.get(), Qt::Key_Plus);
  QVERIFY(std::abs(view_->leafRange().size() - full / 1.25) < 1e-9);
  QTest::keyClick(view_.get(), Qt::Key_Plus);
  const QCPRange zoomed = view_->leafRange();
  QTest::keyClick(view_.get(), Qt::Key_Right);
  QVERIFY(std::abs(view_->leafRange().lower - (zoomed.lower + 0.15 * zoomed.size())) < 1e-9);
  QTest::keyClick(view_.get(), Qt::Key_Minus);
  QVERIFY(view_->leafRange().size() > zoomed.size());
  QTest::keyClick(view_.get(), Qt::Key_Home);
  QCOMPARE(view_->leafRange().lower, -0.7);
  QCOMPARE(view_->leafRange().upper, kExperts - 0.3);
}

void DendrogramScaleTest::cutLineDragStillSetsK() {
  view_->zoomLeaves(3.0, 50.0);
  view_->replot();
  QSignalSpy k(view_.get(), &DendrogramView::kRequested);
  const QCPRange before = view_->leafRange();
  const double x = view_->axisRect()->rect().center().x();
  const double y0 = view_->cutLinePixel();
  const double y1 = view_->heightAxis()->coordToPixel(view_->heightForK(kClusters - 10));
  sendMouse(view_.get(), QEvent::MouseButtonPress, {x, y0}, Qt::LeftButton, Qt::LeftButton);
  for (int i = 1; i <= 10; ++i)
    sendMouse(view_.get(), QEvent::MouseMove, {x, y0 + (y1 - y0) * i / 10.0}, Qt::NoButton, Qt::LeftButton);
  sendMouse(view_.get(), QEvent::MouseButtonRelease, {x, y1}, Qt::LeftButton, Qt::NoButton);
  QVERIFY(k.count() > 0);
  QCOMPARE(k.last().at(0).toInt(), static_cast<int>(kClusters - 10));
  QCOMPARE(view_->leafRange(), before);  // a cut, not a pan
}

void DendrogramScaleTest::foldShowsOneNodePerCluster() {
  view_->setFoldAll(true);
  view_->replot();
  QCOMPARE(view_->drawnLeafCount(), kClusters);
  int64_t multi = 0;
  std::set<int64_t> singletons;
  for (const auto& [label, m] : members_) {
    if (m.size() > 1) ++multi;
    else singletons.insert(*m.begin());
  }
  QCOMPARE(static_cast<int64_t>(view_->drawnFoldedClusters().size()), multi);
  QCOMPARE(std::set<int64_t>(view_->drawnLeaves().begin(), view_->drawnLeaves().end()), singletons);
  // Unfolding one cluster brings back exactly its members.
  const auto biggest = std::max_element(members_.begin(), members_.end(),
                                        [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  view_->setClusterFolded(biggest->first, false);
  view_->replot();
  QCOMPARE(view_->drawnLeafCount(), kClusters - 1 + static_cast<int64_t>(biggest->second.size()));
  for (int64_t e : biggest->second)
    QVERIFY(std::find(view_->drawnLeaves().begin(), view_->drawnLeaves().end(), e) != view_->drawnLeaves().end());
  view_->setClusterFolded(biggest->first, true);
  view_->replot();
  QCOMPARE(view_->drawnLeafCount(), kClusters);
  view_->setFoldAll(false);
  view_->replot();
  QCOMPARE(view_->drawnLeafCount(), kExperts);
}

void DendrogramScaleTest::clickingFoldedClusterSelectsAndUnfoldsIt() {
  view_->setFoldAll(true);
  view_->replot();
  QSignalSpy clicked(view_.get(), &DendrogramView::subtreeClicked);
  int checked = 0;
  for (const auto& [label, m] : members_) {
    if (m.size() < 3 || checked >= 4) continue;
    ++checked;
    QVERIFY(view_->isClusterFolded(label));
    const QRectF r = view_->foldedNodeRect(label);
    QVERIFY(!r.isEmpty());
    // Just above the wedge's base, in its middle: inside the wedge.
    const QPointF at = view_->toPixel(0.5 * (tree_.nodes[static_cast<size_t>(*m.begin())].position +
                                             tree_.nodes[static_cast<size_t>(*m.rbegin())].position), 0);
    click(view_.get(), at + QPointF(0, -2));
    QCOMPARE(clicked.count(), checked);
    const auto experts = clicked.last().at(0).value<std::vector<int64_t>>();
    QCOMPARE(std::set<int64_t>(experts.begin(), experts.end()), m);
    QCOMPARE(experts.size(), m.size());
    QVERIFY(!view_->isClusterFolded(label));
    view_->replot();
  }
  QCOMPARE(checked, 4);
  // A double click inside an open cluster folds it back.
  const auto& [label, m] = *std::find_if(members_.begin(), members_.end(), [&](const auto& c) {
    return c.second.size() >= 3 && !view_->isClusterFolded(c.first);
  });
  const QPointF leaf = view_->toPixel(tree_.nodes[static_cast<size_t>(*m.begin())].position, 0);
  QMouseEvent dbl(QEvent::MouseButtonDblClick, leaf, view_->mapToGlobal(leaf), Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(view_.get(), &dbl);
  QVERIFY(view_->isClusterFolded(label));
}

void DendrogramScaleTest::labelsNeverOverlap() {
  for (Qt::Orientation o : {Qt::Vertical, Qt::Horizontal}) {
    view_->setOrientation(o);
    QCOMPARE(view_->leafAxis(), o == Qt::Vertical ? view_->xAxis : view_->yAxis);
    for (bool folded : {false, true}) {
      view_->setFoldAll(folded);
      for (double zoom : {1.0, 1.7, 3.0, 8.0, 30.0}) {
        view_->fitAll();
        view_->zoomLeaves(zoom, 77.0);
        view_->replot();
        view_->replot();  // the second one uses the label room the first one reserved
        const std::vector<QRectF> rects = view_->drawnLabelRects();
        const QString where = QString("orientation %1, folded %2, zoom %3").arg(o).arg(folded).arg(zoom);
        QVERIFY2(!rects.empty(), qPrintable(where));
        QString which;
        QVERIFY2(!anyOverlap(rects, &which), qPrintable(where + ": " + which));
        // Labels sit outside the plotting area, on the leaf side, and inside the widget.
        const QRect ar = view_->axisRect()->rect();
        for (const QRectF& r : rects) {
          QVERIFY2(o == Qt::Vertical ? r.top() >= ar.bottom() : r.right() <= ar.left(), qPrintable(where));
          QVERIFY2(QRectF(view_->rect()).contains(r), qPrintable(where));
        }
      }
    }
  }
}

void DendrogramScaleTest::overviewStripMovesTheView() {
  const QRect strip = view_->overviewRect();
  QVERIFY(!strip.isEmpty());
  QVERIFY(!strip.intersects(view_->axisRect()->rect()));
  view_->zoomLeaves(10.0, 20.0);
  const double span = view_->leafRange().size();
  QSignalSpy spy(view_.get(), &DendrogramView::leafRangeChanged);
  // The strip shows the whole leaf range over its width: its 3/4 point is leaf position ~0.75 n.
  const double frac = 0.75;
  const QPointF at(strip.left() + frac * strip.width(), strip.center().y());
  const double expected = -0.7 + frac * (kExperts + 0.4);
  click(view_.get(), at);
  QVERIFY(spy.count() >= 1);
  QVERIFY2(std::abs(view_->leafRange().center() - expected) < 1.0,
           qPrintable(QString("centre %1, expected %2").arg(view_->leafRange().center()).arg(expected)));
  QVERIFY(std::abs(view_->leafRange().size() - span) < 1e-9);
}

void DendrogramScaleTest::revealExpertCentresAndSelects() {
  view_->setFoldAll(true);
  const auto& [label, m] = *std::find_if(members_.begin(), members_.end(), [](const auto& c) { return c.second.size() >= 3; });
  const int64_t expert = *std::next(m.begin());
  QSignalSpy clicked(view_.get(), &DendrogramView::subtreeClicked);
  QVERIFY(view_->revealExpert(expert));
  QVERIFY(!view_->revealExpert(kExperts));
  QVERIFY(!view_->isClusterFolded(label));
  const double position = tree_.nodes[static_cast<size_t>(expert)].position;
  QVERIFY(view_->leafRange().contains(position));
  QVERIFY(view_->leafRange().size() <= 48);
  QCOMPARE(clicked.count(), 1);
  QCOMPARE(clicked.at(0).at(0).value<std::vector<int64_t>>(), std::vector<int64_t>{expert});
  view_->replot();
  QVERIFY(std::find(view_->drawnLeaves().begin(), view_->drawnLeaves().end(), expert) != view_->drawnLeaves().end());
  // Its label is drawn, centred on its leaf.
  const double x = view_->leafAxis()->coordToPixel(position);
  QVERIFY(std::any_of(view_->drawnLabelRects().begin(), view_->drawnLabelRects().end(),
                      [&](const QRectF& r) { return std::abs(r.center().x() - x) < 0.5; }));
}

void DendrogramScaleTest::coloringGreysSmallClustersAndSeparatesTopOnes() {
  // 20 clusters of 30, 29, ..., 11 members and 50 singletons; labels shuffled so that the
  // ranking cannot come from the label order.
  std::vector<int64_t> sizes;
  for (int64_t s = 30; s > 10; --s) sizes.push_back(s);
  for (int i = 0; i < 50; ++i) sizes.push_back(1);
  std::vector<int64_t> labelOf(sizes.size());
  std::iota(labelOf.begin(), labelOf.end(), 0);
  std::shuffle(labelOf.begin(), labelOf.end(), std::mt19937(3));
  std::vector<int64_t> clusters;
  std::vector<double> usage;
  for (size_t i = 0; i < sizes.size(); ++i)
    for (int64_t j = 0; j < sizes[i]; ++j) clusters.push_back(labelOf[i]), usage.push_back(0.001);
  const ClusterColoring coloring(clusters, usage);
  for (bool dark : {false, true}) {
    std::vector<QColor> top;
    for (size_t i = 0; i < 12; ++i) top.push_back(coloring.color(labelOf[i], dark));
    for (size_t i = 0; i < top.size(); ++i) {
      QVERIFY(deltaE(top[i], moe::widgets::smallClusterColor(dark)) > 20);
      for (size_t j = i + 1; j < top.size(); ++j)
        QVERIFY2(deltaE(top[i], top[j]) > 20, qPrintable(QString("ranks %1 and %2: %3").arg(i).arg(j).arg(deltaE(top[i], top[j]))));
    }
    for (size_t i = 12; i < sizes.size(); ++i) QCOMPARE(coloring.color(labelOf[i], dark), moe::widgets::smallClusterColor(dark));
  }
  QCOMPARE(coloring.greySingletons(), int64_t(50));
  QCOMPARE(coloring.greySmallClusters(), int64_t(8));
  QVERIFY(coloring.legendText().contains("50"));
  QVERIFY(coloring.legendText().contains("8"));
  // Equal sizes: usage decides who gets the last colours. 13 pairs, pair i with usage (i + 1):
  // the least used pair is the one left grey.
  std::vector<int64_t> pairs;
  std::vector<double> pairUsage;
  for (int64_t c = 0; c < 13; ++c)
    for (int j = 0; j < 2; ++j) pairs.push_back(c), pairUsage.push_back(0.01 * static_cast<double>(c + 1));
  const ClusterColoring byUsage(pairs, pairUsage);
  QCOMPARE(byUsage.rank(12), 0);
  QCOMPARE(byUsage.rank(1), 11);
  QVERIFY(byUsage.isGrey(0));
  QCOMPARE(byUsage.greySmallClusters(), int64_t(1));
  // Order of the input does not matter.
  std::vector<size_t> perm(clusters.size());
  std::iota(perm.begin(), perm.end(), size_t{0});
  std::shuffle(perm.begin(), perm.end(), std::mt19937(5));
  std::vector<int64_t> c2;
  std::vector<double> u2;
  for (size_t i : perm) c2.push_back(clusters[i]), u2.push_back(usage[i]);
  const ClusterColoring shuffled(c2, u2);
  for (int64_t c = 0; c < static_cast<int64_t>(sizes.size()); ++c) QCOMPARE(shuffled.color(c), coloring.color(c));
}

void DendrogramScaleTest::coloringKeepsEveryClusterDistinctUpToTwelve() {
  // Twelve clusters, four of them singletons: all get their own colour; with equal sizes usage decides.
  std::vector<int64_t> clusters = {0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11};
  std::vector<double> usage(clusters.size(), 0.01);
  usage[3] = usage[4] = 0.2;  // cluster 1 outranks the other pairs
  const ClusterColoring coloring(clusters, usage);
  std::set<QRgb> colours;
  for (int64_t c = 0; c < 12; ++c) colours.insert(coloring.color(c).rgb());
  QCOMPARE(colours.size(), size_t(12));
  QCOMPARE(coloring.rank(0), 0);
  QCOMPARE(coloring.rank(1), 1);
  QVERIFY(coloring.legendText().isEmpty());
}

void DendrogramScaleTest::viewColoursAgreeWithColoring() {
  // Ranks computed here from the cut: size, then usage.
  std::vector<std::pair<int64_t, double>> stats;
  std::vector<int64_t> order;
  for (const auto& [label, m] : members_) {
    double u = 0;
    for (int64_t e : m) u += usage_[static_cast<size_t>(e)];
    stats.push_back({static_cast<int64_t>(m.size()), u});
    order.push_back(label);
  }
  std::vector<int64_t> multi;
  for (int64_t label : order)
    if (members_[label].size() > 1) multi.push_back(label);
  std::sort(multi.begin(), multi.end(), [&](int64_t a, int64_t b) {
    const auto& sa = stats[static_cast<size_t>(a)];
    const auto& sb = stats[static_cast<size_t>(b)];
    return sa.first != sb.first ? sa.first > sb.first : sa.second > sb.second;
  });
  std::set<int64_t> top(multi.begin(), multi.begin() + std::min<size_t>(12, multi.size()));
  std::set<QRgb> topColours;
  for (const auto& [label, m] : members_) {
    const QColor c = view_->leafColor(*m.begin());
    for (int64_t e : m) QCOMPARE(view_->leafColor(e), c);  // one colour per cluster
    if (top.count(label)) topColours.insert(c.rgb());
    else QCOMPARE(c, moe::widgets::smallClusterColor(moe::widgets::isDarkPalette(view_->palette())));
  }
  QCOMPARE(topColours.size(), top.size());
  QVERIFY(!view_->colorLegend().isEmpty());
}

void DendrogramScaleTest::smallTreeLabelsEveryLeafWithUsage() {
  // 16 experts as in the explorer's demo: every leaf labelled "id" over "usage", no overview strip.
  std::vector<double> data;
  for (int i = 0; i < 16; ++i) data.push_back(std::sin(1.7 * i)), data.push_back(std::cos(0.9 * i * i));
  const moe::Linkage z = moe::linkage(moe::pdist(data.data(), 16, 2, moe::DistanceMetric::Euclidean), moe::LinkageMethod::Average);
  std::vector<double> usage(16, 1.0 / 16);
  view_->setTree(z, usage);
  view_->setClusters(5, moe::cutTree(z, 5));
  view_->replot();
  view_->replot();
  QCOMPARE(view_->drawnLeafCount(), int64_t(16));
  QCOMPARE(view_->drawnLabelRects().size(), size_t(16));
  QVERIFY(view_->overviewRect().isEmpty());
  QVERIFY(view_->colorLegend().isEmpty());  // five clusters: all coloured, nothing grey
  const QFontMetricsF fm(view_->font());
  for (const QRectF& r : view_->drawnLabelRects()) QVERIFY(r.height() >= 2 * fm.lineSpacing() - 1);  // two lines
  QString which;
  QVERIFY2(!anyOverlap(view_->drawnLabelRects(), &which), qPrintable(which));
}

void DendrogramScaleTest::horizontalOrientationKeepsInteractions() {
  view_->setOrientation(Qt::Horizontal);
  view_->setFoldAll(true);
  view_->replot();
  view_->replot();
  QCOMPARE(view_->drawnLeafCount(), kClusters);
  // Leaves run down the left axis, leaf 0 at the top.
  QVERIFY(view_->toPixel(0, 0).y() < view_->toPixel(kExperts - 1, 0).y());
  QVERIFY(view_->toPixel(0, 0).x() < view_->toPixel(0, 5).x());
  QSignalSpy clicked(view_.get(), &DendrogramView::subtreeClicked);
  const auto& [label, m] = *std::max_element(members_.begin(), members_.end(),
                                             [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  const double mid = 0.5 * (tree_.nodes[static_cast<size_t>(*m.begin())].position + tree_.nodes[static_cast<size_t>(*m.rbegin())].position);
  click(view_.get(), view_->toPixel(mid, 0) + QPointF(2, 0));
  QCOMPARE(clicked.count(), 1);
  const auto experts = clicked.at(0).at(0).value<std::vector<int64_t>>();
  QCOMPARE(std::set<int64_t>(experts.begin(), experts.end()), m);
  // The cut line is vertical now: dragging it sideways changes K.
  QSignalSpy k(view_.get(), &DendrogramView::kRequested);
  const double y = view_->axisRect()->rect().center().y();
  const double x0 = view_->cutLinePixel(), x1 = view_->heightAxis()->coordToPixel(view_->heightForK(kClusters + 10));
  QVERIFY(std::abs(x0 - view_->xAxis->coordToPixel(view_->cutHeight())) < 1e-9);
  sendMouse(view_.get(), QEvent::MouseButtonPress, {x0, y}, Qt::LeftButton, Qt::LeftButton);
  for (int i = 1; i <= 10; ++i)
    sendMouse(view_.get(), QEvent::MouseMove, {x0 + (x1 - x0) * i / 10.0, y}, Qt::NoButton, Qt::LeftButton);
  sendMouse(view_.get(), QEvent::MouseButtonRelease, {x1, y}, Qt::LeftButton, Qt::NoButton);
  QVERIFY(k.count() > 0);
  QCOMPARE(k.last().at(0).toInt(), static_cast<int>(kClusters + 10));
  // Wheel zoom keeps the leaf under the cursor (vertical leaf axis, reversed).
  const QPointF at(view_->axisRect()->rect().center().x(), view_->axisRect()->rect().top() + 100);
  const double before = view_->leafAxis()->pixelToCoord(at.y());
  QWheelEvent wheel(at, view_->mapToGlobal(at), QPoint(), QPoint(0, 360), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(view_.get(), &wheel);
  QVERIFY(view_->leafRange().size() < (kExperts + 0.4) / 1.9);
  QVERIFY(std::abs(view_->leafAxis()->pixelToCoord(at.y()) - before) < 1e-6);
}

void DendrogramScaleTest::fiveHundredTwelveExperts() {
  std::mt19937 rng(512);
  std::normal_distribution<double> normal;
  std::vector<double> data(512 * 8);
  for (double& v : data) v = normal(rng);
  const moe::Linkage z = moe::linkage(moe::pdist(data.data(), 512, 8, moe::DistanceMetric::Euclidean), moe::LinkageMethod::Average);
  view_->setTree(z, std::vector<double>(512, 1.0 / 512));
  view_->setClusters(64, moe::cutTree(z, 64));
  for (double zoom : {1.0, 5.0, 50.0}) {
    view_->fitAll();
    view_->zoomLeaves(zoom, 300);
    view_->replot();
    view_->replot();
    const QCPRange r = view_->leafRange();
    const int64_t visible = static_cast<int64_t>(std::floor(r.upper)) - static_cast<int64_t>(std::ceil(r.lower)) + 1;
    QCOMPARE(view_->drawnLeafCount(), visible);
    QVERIFY(!view_->drawnLabelRects().empty());
    QString which;
    QVERIFY2(!anyOverlap(view_->drawnLabelRects(), &which), qPrintable(which));
  }
  view_->fitAll();
  view_->setFoldAll(true);
  view_->replot();
  QCOMPARE(view_->drawnLeafCount(), int64_t(64));
}

QTEST_MAIN(DendrogramScaleTest)
#include "test_dendrogram_scale.moc"
