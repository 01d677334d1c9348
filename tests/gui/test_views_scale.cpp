// The explorer's views at the sizes of large MoE models: 256 and 512 experts, 94 layers. Heatmap
// zoom and pan, non-overlapping axis labels, the cluster summary; usage top-N and sorting; the
// layer table's sorting and selection; the layer overview. Expected values are computed here from
// the input data, never read back from the views.
#include <QApplication>
#include <QHeaderView>
#include <QSignalSpy>
#include <QWheelEvent>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>

#include "widgets/heatmap_view.h"
#include "widgets/layer_metrics.h"
#include "widgets/layer_overview.h"
#include "widgets/layer_table.h"
#include "widgets/usage_chart.h"

using moe::widgets::HeatmapView;
using moe::widgets::LayerTable;

namespace {

// Symmetric, zero diagonal, positive off the diagonal.
moe::Matrix randomDistances(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.1, 5.0);
  moe::Matrix m(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) m(i, j) = m(j, i) = u(rng);
  return m;
}

std::vector<int64_t> shuffled(int64_t n, std::mt19937& rng) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

// Clusters that are runs along `order` (as a dendrogram cut gives), numbered 0.. along it, with
// run lengths 1..6 so singletons occur.
std::vector<int64_t> runClusters(const std::vector<int64_t>& order, std::mt19937& rng) {
  std::vector<int64_t> clusters(order.size());
  std::uniform_int_distribution<int> len(1, 6);
  int64_t c = 0;
  for (size_t p = 0; p < order.size();) {
    const size_t end = std::min(order.size(), p + static_cast<size_t>(len(rng)));
    for (; p < end; ++p) clusters[static_cast<size_t>(order[p])] = c;
    ++c;
  }
  return clusters;
}

void sendMouse(QWidget* w, QEvent::Type type, QPointF pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
  QMouseEvent e(type, pos, w->mapToGlobal(pos), button, buttons, Qt::NoModifier);
  QApplication::sendEvent(w, &e);
}

void sendWheel(QWidget* w, QPointF pos, int angle) {
  QWheelEvent e(pos, w->mapToGlobal(pos), QPoint(), QPoint(0, angle), Qt::NoButton, Qt::NoModifier,
                Qt::NoScrollPhase, false);
  QApplication::sendEvent(w, &e);
}

bool near(double a, double b, double tol = 1e-9) { return std::abs(a - b) <= tol * std::max(1.0, std::abs(b)); }

QString overlapReport(const std::vector<QRectF>& rects) {
  for (size_t i = 0; i < rects.size(); ++i)
    for (size_t j = i + 1; j < rects.size(); ++j)
      if (rects[i].intersects(rects[j]))
        return QString("labels %1 (%2,%3 %4x%5) and %6 (%7,%8 %9x%10) overlap")
            .arg(i).arg(rects[i].x()).arg(rects[i].y()).arg(rects[i].width()).arg(rects[i].height())
            .arg(j).arg(rects[j].x()).arg(rects[j].y()).arg(rects[j].width()).arg(rects[j].height());
  return QString();
}

// 94 decoder layers, the first three dense (DeepSeek-like), random values, some errors unknown.
std::vector<moe::widgets::LayerRow> randomLayerRows(std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::uniform_int_distribution<int> k(1, 256);
  std::vector<moe::widgets::LayerRow> rows;
  int j = 0;
  for (int l = 0; l < 94; ++l) {
    moe::widgets::LayerRow row;
    row.layer = l;
    if (l >= 3) {
      row.moeIndex = j++;
      row.experts = l % 2 ? 256 : 160;
      row.k = k(rng);
      row.memoryBytes = 1e6 * (1 + 1000 * u(rng));
      row.memory = QString("%1 MB").arg(row.memoryBytes / 1e6, 0, 'f', 1);
      row.error = l % 7 == 0 ? -1 : u(rng);  // not yet known for some layers
      row.errorExact = l % 3 == 0;
      row.redundancy = u(rng);
      row.usageSkew = u(rng);
      row.usage = std::vector<double>(static_cast<size_t>(row.experts), 1.0 / static_cast<double>(row.experts));
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

class ViewsScaleTest : public QObject {
  Q_OBJECT

 private slots:
  void heatmapZoomAndPan_data();
  void heatmapZoomAndPan();
  void heatmapLabelsNeverOverlap_data();
  void heatmapLabelsNeverOverlap();
  void heatmapClusterSummaryHoldsMeans_data();
  void heatmapClusterSummaryHoldsMeans();
  void usageTopNShowsTheLargest();
  void usageChartZooms();
  void layerMetrics();
  void layerTableSortsEveryColumn();
  void layerOverviewHasOneRowPerLayer();
};

void ViewsScaleTest::heatmapZoomAndPan_data() {
  QTest::addColumn<int>("experts");
  QTest::newRow("256") << 256;
  QTest::newRow("512") << 512;
}

void ViewsScaleTest::heatmapZoomAndPan() {
  QFETCH(int, experts);
  const int64_t n = experts;
  std::mt19937 rng(7);
  const moe::Matrix d = randomDistances(n, rng);
  const std::vector<int64_t> order = shuffled(n, rng);
  HeatmapView view;
  view.resize(900, 800);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setData(d, order, {}, runClusters(order, rng));
  view.replot();
  QCOMPARE(view.visibleRange().lower, -0.5);
  QCOMPARE(view.visibleRange().upper, n - 0.5);
  QSignalSpy ranges(&view, &HeatmapView::leafRangeChanged);
  QSignalSpy clicks(&view, &HeatmapView::expertsClicked);

  // Wheel forward over the middle: fewer cells shown, the cell under the cursor stays put.
  const QRect area = view.axisRect()->rect();
  const QPointF centre = area.center();
  const double under = view.xAxis->pixelToCoord(centre.x());
  sendWheel(&view, centre, 120 * 3);
  const QCPRange zoomed = view.visibleRange();
  QVERIFY2(zoomed.size() < 0.6 * n, qPrintable(QString::number(zoomed.size())));
  QVERIFY(near(view.xAxis->pixelToCoord(centre.x()), under, 1e-6));
  QCOMPARE(view.yAxis->range().lower, zoomed.lower);  // both axes follow
  QCOMPARE(view.yAxis->range().upper, zoomed.upper);
  QCOMPARE(ranges.count(), 1);
  QCOMPARE(ranges.last().at(0).toDouble(), zoomed.lower);
  QCOMPARE(ranges.last().at(1).toDouble(), zoomed.upper);

  // Arrow key: pans by a tenth of the span.
  QTest::keyClick(&view, Qt::Key_Right);
  QVERIFY(near(view.visibleRange().lower, zoomed.lower + 0.1 * zoomed.size()));
  QVERIFY(near(view.visibleRange().size(), zoomed.size()));

  // Drag 100 px to the left: the view moves right by 100 px worth of cells; no click.
  view.replot();
  const QCPRange before = view.visibleRange();
  const double cellsPerPixel = before.size() / area.width();
  sendMouse(&view, QEvent::MouseButtonPress, centre, Qt::LeftButton, Qt::LeftButton);
  sendMouse(&view, QEvent::MouseMove, centre - QPointF(50, 0), Qt::NoButton, Qt::LeftButton);
  sendMouse(&view, QEvent::MouseMove, centre - QPointF(100, 0), Qt::NoButton, Qt::LeftButton);
  sendMouse(&view, QEvent::MouseButtonRelease, centre - QPointF(100, 0), Qt::LeftButton, Qt::NoButton);
  QVERIFY2(near(view.visibleRange().lower, before.lower + 100 * cellsPerPixel, 1e-6),
           qPrintable(QString("%1 vs %2").arg(view.visibleRange().lower).arg(before.lower + 100 * cellsPerPixel)));
  QCOMPARE(clicks.count(), 0);

  // A click (no drag) selects the two experts of the cell under it.
  view.replot();
  const QPointF cell(view.xAxis->coordToPixel(std::round(view.visibleRange().center()) + 2),
                     view.yAxis->coordToPixel(std::round(view.visibleRange().center())));
  sendMouse(&view, QEvent::MouseButtonPress, cell, Qt::LeftButton, Qt::LeftButton);
  sendMouse(&view, QEvent::MouseButtonRelease, cell, Qt::LeftButton, Qt::NoButton);
  QCOMPARE(clicks.count(), 1);
  const auto row = static_cast<size_t>(std::llround(std::round(view.visibleRange().center())));
  const std::vector<int64_t> expected{order[row], order[row + 2]};
  QCOMPARE(clicks.last().at(0).value<std::vector<int64_t>>(), expected);

  // The slot shows exactly the requested leaves, on both axes, without echoing the signal.
  const int emitted = ranges.count();
  view.setLeafRange(10.5, 60.5);
  QCOMPARE(view.visibleRange().lower, 10.5);
  QCOMPARE(view.visibleRange().upper, 60.5);
  QCOMPARE(view.yAxis->range().lower, 10.5);
  QCOMPARE(ranges.count(), emitted);
  // Out of bounds: clamped to the matrix.
  view.setLeafRange(n - 20.5, n + 30.5);
  QCOMPARE(view.visibleRange().upper, n - 0.5);
  QVERIFY(near(view.visibleRange().size(), 51));

  // Home fits the whole matrix again.
  QTest::keyClick(&view, Qt::Key_Home);
  QCOMPARE(view.visibleRange().lower, -0.5);
  QCOMPARE(view.visibleRange().upper, n - 0.5);
  QCOMPARE(ranges.last().at(1).toDouble(), n - 0.5);
}

void ViewsScaleTest::heatmapLabelsNeverOverlap_data() {
  QTest::addColumn<int>("experts");
  QTest::addColumn<int>("width");
  QTest::newRow("256 large") << 256 << 1000;
  QTest::newRow("256 small") << 256 << 420;
  QTest::newRow("512 large") << 512 << 1000;
  QTest::newRow("512 small") << 512 << 420;
}

void ViewsScaleTest::heatmapLabelsNeverOverlap() {
  QFETCH(int, experts);
  QFETCH(int, width);
  const int64_t n = experts;
  std::mt19937 rng(11);
  const std::vector<int64_t> order = shuffled(n, rng);
  HeatmapView view;
  view.resize(width, width - 60);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setData(randomDistances(n, rng), order, {}, runClusters(order, rng));
  for (bool summary : {false, true}) {
    view.setClusterSummary(summary);
    const int64_t cells = view.cellCount();
    for (double span : {1.0, 0.6, 0.3, 0.12, 0.05, 0.0}) {  // fraction of the matrix shown; 0: the least
      const double first = 0.37 * (1 - span) * cells;  // off-centre, to test unaligned ranges
      view.setLeafRange(-1e9, 1e9);                     // reset, then zoom in display units
      view.zoomBy(span, first);
      view.replot();
      const std::vector<QRectF> rects = view.drawnLabelRects();
      const QString where = QString("summary %1, span %2, range %3..%4")
                                .arg(summary).arg(span).arg(view.visibleRange().lower).arg(view.visibleRange().upper);
      QVERIFY2(rects.size() >= 4, qPrintable(where));
      const QString overlap = overlapReport(rects);
      QVERIFY2(overlap.isEmpty(), qPrintable(where + ": " + overlap));
      // Zoomed in far enough, every visible cell is labelled on both axes.
      const double visible = view.visibleRange().size();
      if (view.axisRect()->height() / visible > 2 * QFontMetricsF(view.xAxis->tickLabelFont()).height()) {
        const int64_t whole = static_cast<int64_t>(std::floor(view.visibleRange().upper)) -
                              static_cast<int64_t>(std::ceil(view.visibleRange().lower)) + 1;
        QVERIFY2(static_cast<int64_t>(rects.size()) >= 2 * whole - 2,
                 qPrintable(where + QString(": %1 labels for %2 cells").arg(rects.size()).arg(whole)));
      }
    }
  }
}

void ViewsScaleTest::heatmapClusterSummaryHoldsMeans_data() {
  QTest::addColumn<int>("experts");
  QTest::newRow("256") << 256;
  QTest::newRow("512") << 512;
}

void ViewsScaleTest::heatmapClusterSummaryHoldsMeans() {
  QFETCH(int, experts);
  const int64_t n = experts;
  std::mt19937 rng(23);
  const moe::Matrix d = randomDistances(n, rng);
  const std::vector<int64_t> order = shuffled(n, rng);
  const std::vector<int64_t> clusters = runClusters(order, rng);
  HeatmapView view;
  view.resize(800, 700);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setData(d, order, {}, clusters);
  view.setClusterSummary(true);
  QVERIFY(view.showingSummary());

  // Members of each cluster (ids 0.. along the leaf order), from the input.
  const int64_t k = *std::max_element(clusters.begin(), clusters.end()) + 1;
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(k));
  for (int64_t e = 0; e < n; ++e) members[static_cast<size_t>(clusters[static_cast<size_t>(e)])].push_back(e);
  QCOMPARE(view.cellCount(), k);
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = 0; b < k; ++b) {
      double sum = 0;
      int count = 0;
      for (int64_t i : members[static_cast<size_t>(a)])
        for (int64_t j : members[static_cast<size_t>(b)])
          if (i != j) sum += d(i, j), ++count;
      const double expected = count ? sum / count : 0.0;  // a singleton's diagonal: its zero self-distance
      QVERIFY2(near(view.cellValue(a, b), expected, 1e-12),
               qPrintable(QString("cell %1,%2: %3 vs %4").arg(a).arg(b).arg(view.cellValue(a, b)).arg(expected)));
    }

  // Leaf ranges map to the clusters covering them: clusters 0..2 fill leaf positions 0..m-1.
  const double m = static_cast<double>(members[0].size() + members[1].size() + members[2].size());
  view.setLeafRange(-0.5, m - 0.5);
  QVERIFY(near(view.visibleRange().lower, -0.5));
  QVERIFY(near(view.visibleRange().upper, 2.5));
  // Clicking an off-diagonal summary cell selects both clusters' experts.
  QSignalSpy clicks(&view, &HeatmapView::expertsClicked);
  view.replot();
  const QPointF cell(view.xAxis->coordToPixel(2), view.yAxis->coordToPixel(0));
  sendMouse(&view, QEvent::MouseButtonPress, cell, Qt::LeftButton, Qt::LeftButton);
  sendMouse(&view, QEvent::MouseButtonRelease, cell, Qt::LeftButton, Qt::NoButton);
  QCOMPARE(clicks.count(), 1);
  std::set<int64_t> got, want;
  for (int64_t e : clicks.last().at(0).value<std::vector<int64_t>>()) got.insert(e);
  for (int64_t e : members[0]) want.insert(e);
  for (int64_t e : members[2]) want.insert(e);
  QCOMPARE(got, want);

  // Back to the full matrix: the same leaves stay in view.
  view.setClusterSummary(false);
  QCOMPARE(view.cellCount(), n);
  QVERIFY(near(view.visibleRange().lower, -0.5));
  QVERIFY(near(view.visibleRange().upper, std::max(m, 3.0) - 0.5));
  QCOMPARE(view.cellValue(3, 7), d(order[3], order[7]));

  // Groups that are not runs of the display order (REAM's centroid groups): the summary still
  // holds one cell per group, and turning it off after a zoom shows the whole matrix, since a
  // summary position covers no span of leaves.
  std::vector<int64_t> scattered(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) scattered[static_cast<size_t>(order[static_cast<size_t>(p)])] = p % 7;
  view.setClusters(scattered);
  view.setClusterSummary(true);
  QCOMPARE(view.cellCount(), int64_t(7));
  view.zoomBy(0.5, 1.0);
  QVERIFY(view.visibleRange().size() < 6.5);
  view.setClusterSummary(false);
  QCOMPARE(view.cellCount(), n);
  QVERIFY(near(view.visibleRange().lower, -0.5));
  QVERIFY(near(view.visibleRange().upper, static_cast<double>(n) - 0.5));
}

void ViewsScaleTest::usageTopNShowsTheLargest() {
  const int64_t n = 512;
  std::mt19937 rng(31);
  std::gamma_distribution<double> g(0.6, 1.0);
  std::vector<double> usage(n), reap(n);
  for (auto& u : usage) u = g(rng);
  for (auto& r : reap) r = g(rng);
  const double total = std::accumulate(usage.begin(), usage.end(), 0.0);
  for (auto& u : usage) u /= total;
  const std::vector<int64_t> order = shuffled(n, rng);
  moe::widgets::UsageChart chart;
  chart.resize(900, 300);
  chart.show();
  QVERIFY(QTest::qWaitForWindowExposed(&chart));
  chart.setData(usage, reap, order, runClusters(order, rng));

  // The 64 largest, found here by sorting the input.
  const auto largest = [&](const std::vector<double>& key, size_t count) {
    std::vector<int64_t> ids(static_cast<size_t>(n));
    std::iota(ids.begin(), ids.end(), 0);
    std::sort(ids.begin(), ids.end(), [&](int64_t a, int64_t b) { return key[static_cast<size_t>(a)] > key[static_cast<size_t>(b)]; });
    ids.resize(count);
    return ids;
  };
  QCOMPARE(chart.topN(), 64);
  const std::vector<int64_t> top = largest(usage, 64);
  const std::set<int64_t> topSet(top.begin(), top.end());
  const std::vector<int64_t>& shown = chart.shownExperts();
  QCOMPARE(shown.size(), size_t(64));
  QCOMPARE(std::set<int64_t>(shown.begin(), shown.end()), topSet);
  QCOMPARE(chart.hiddenCount(), 448);
  QVERIFY2(chart.hiddenNote().contains("448"), qPrintable(chart.hiddenNote()));
  // Leaf order: the kept experts keep their dendrogram order.
  std::vector<int64_t> leafKept;
  for (int64_t e : order)
    if (topSet.count(e)) leafKept.push_back(e);
  QCOMPARE(shown, leafKept);

  // Sorted by usage: the same experts, largest first.
  chart.setSortMode(moe::widgets::UsageChart::SortMode::ByUsage);
  QCOMPARE(chart.shownExperts(), top);
  // Sorted by REAP: the largest REAP scores instead.
  chart.setSortMode(moe::widgets::UsageChart::SortMode::ByReap);
  QCOMPARE(chart.shownExperts(), largest(reap, 64));
  QVERIFY(chart.hiddenNote().contains("REAP"));
  // Another N, then all.
  chart.setSortMode(moe::widgets::UsageChart::SortMode::ByUsage);
  chart.setTopN(10);
  QCOMPARE(chart.shownExperts(), largest(usage, 10));
  chart.setTopN(0);
  QCOMPARE(chart.shownExperts(), largest(usage, 512));
  QCOMPARE(chart.hiddenCount(), 0);
  QVERIFY(chart.hiddenNote().isEmpty());
  chart.setSortMode(moe::widgets::UsageChart::SortMode::LeafOrder);
  QCOMPARE(chart.shownExperts(), order);
}

void ViewsScaleTest::usageChartZooms() {
  const int64_t n = 512;
  std::vector<double> usage(n, 1.0 / n), reap(n, 1.0);
  moe::widgets::UsageChart chart;
  chart.resize(900, 300);
  chart.show();
  QVERIFY(QTest::qWaitForWindowExposed(&chart));
  chart.setTopN(0);
  chart.setData(usage, reap, {}, {});
  chart.replot();
  // The whole axis: bars 0 .. n - 1 with 0.6 / 0.4 of margin.
  QVERIFY2(near(chart.xAxis->range().size(), n + 0.2), qPrintable(QString("%1..%2").arg(chart.xAxis->range().lower).arg(chart.xAxis->range().upper)));
  sendWheel(&chart, chart.axisRect()->rect().center(), 120 * 4);
  QVERIFY2(chart.xAxis->range().size() < 0.8 * n, qPrintable(QString::number(chart.xAxis->range().size())));
  // Never past the bars, never narrower than a few bars.
  for (int i = 0; i < 60; ++i) sendWheel(&chart, chart.axisRect()->rect().center(), 120 * 4);
  QVERIFY(chart.xAxis->range().size() >= 4 - 1e-9);
  for (int i = 0; i < 60; ++i) sendWheel(&chart, chart.axisRect()->rect().center(), -120 * 4);
  QVERIFY(near(chart.xAxis->range().size(), n + 0.2));
  QVERIFY(near(chart.xAxis->range().lower, -0.6));
}

void ViewsScaleTest::layerMetrics() {
  // Uniform usage: no skew; one expert takes all: full skew; two of four equally: 1 - ln2/ln4 = 0.5.
  QCOMPARE(moe::widgets::usageSkew({0.25, 0.25, 0.25, 0.25}), 0.0);
  QCOMPARE(moe::widgets::usageSkew({0, 1, 0, 0}), 1.0);
  QVERIFY(near(moe::widgets::usageSkew({0.5, 0, 0.5, 0}), 0.5, 1e-12));
  QVERIFY(moe::widgets::usageSkew({1}) < 0);
  // Four points on a line at 0, 1, 10, 11: nearest distances 1, 1, 1, 1 (mean 1); pair distances
  // 1, 10, 11, 9, 10, 1 (mean 7): redundancy 1 - 1/7.
  moe::Matrix d(4, 4);
  const double x[] = {0, 1, 10, 11};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) d(i, j) = std::abs(x[i] - x[j]);
  QVERIFY(near(moe::widgets::redundancy(d), 1.0 - 1.0 / 7.0, 1e-12));
  // At 0, 1, 3, 7 the last expert's nearest (4) lies in an earlier expert's row: nearest 1, 1, 2, 4
  // (mean 2); pairs 1, 3, 7, 2, 6, 4 (mean 23/6): redundancy 1 - 12/23.
  const double y[] = {0, 1, 3, 7};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) d(i, j) = std::abs(y[i] - y[j]);
  QVERIFY(near(moe::widgets::redundancy(d), 1.0 - 12.0 / 23.0, 1e-12));
}

void ViewsScaleTest::layerTableSortsEveryColumn() {
  std::mt19937 rng(41);
  const std::vector<moe::widgets::LayerRow> rows = randomLayerRows(rng);
  LayerTable table;
  table.resize(700, 900);
  table.show();
  QVERIFY(QTest::qWaitForWindowExposed(&table));
  table.setRows(rows);
  QCOMPARE(table.rowCount(), 94);
  QVERIFY2(table.rowHeight(0) < 28, qPrintable(QString::number(table.rowHeight(0))));  // compact at 94 layers
  QSignalSpy selected(&table, &LayerTable::moeLayerSelected);

  // The value each column sorts by, from the input (NaN: unknown or dense, kept last).
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto key = [&](const moe::widgets::LayerRow& r, int column) -> double {
    if (column == LayerTable::LayerColumn) return r.layer;
    if (r.moeIndex < 0) return nan;
    switch (column) {
      case LayerTable::ExpertsColumn: return static_cast<double>(r.experts);
      case LayerTable::KColumn: return static_cast<double>(r.k);
      case LayerTable::MemoryColumn: return r.memoryBytes;
      case LayerTable::ErrorColumn: return r.error < 0 ? nan : r.error;
      case LayerTable::RedundancyColumn: return r.redundancy;
      case LayerTable::SkewColumn:
      case LayerTable::UsageColumn: return r.usageSkew;
    }
    return nan;
  };
  int pick = 0;
  for (int column = 0; column < LayerTable::ColumnCount; ++column)
    for (Qt::SortOrder direction : {Qt::AscendingOrder, Qt::DescendingOrder}) {
      // Clicking the header sorts (twice for descending when it was ascending).
      table.sortByColumn(column, direction);
      // Expected layer order: known values by value (ties by layer), then the unknown ones by layer.
      std::vector<moe::widgets::LayerRow> known, unknown;
      for (const auto& r : rows) (std::isnan(key(r, column)) ? unknown : known).push_back(r);
      const bool up = direction == Qt::AscendingOrder;
      std::sort(known.begin(), known.end(), [&](const auto& a, const auto& b) {
        const double ka = key(a, column), kb = key(b, column);
        if (ka != kb) return up ? ka < kb : ka > kb;
        return up ? a.layer < b.layer : a.layer > b.layer;
      });
      std::sort(unknown.begin(), unknown.end(), [&](const auto& a, const auto& b) { return up ? a.layer < b.layer : a.layer > b.layer; });
      known.insert(known.end(), unknown.begin(), unknown.end());
      for (int r = 0; r < table.rowCount(); ++r) {
        const int expected = known[static_cast<size_t>(r)].moeIndex;
        QVERIFY2(table.moeIndexOfRow(r) == expected,
                 qPrintable(QString("column %1 %2, row %3: MoE %4, expected %5 (layer %6)")
                                .arg(column).arg(up ? "up" : "down").arg(r).arg(table.moeIndexOfRow(r)).arg(expected)
                                .arg(known[static_cast<size_t>(r)].layer)));
        QCOMPARE(table.item(r, LayerTable::LayerColumn)->text().split(' ').front().toInt(), known[static_cast<size_t>(r)].layer);
      }
      // Selecting a row of the sorted table reports that row's MoE index; selecting by index
      // selects the row that shows it.
      const int row = 3 + (pick++ * 17) % 90;  // past the dense rows' positions in either direction
      const int want = known[static_cast<size_t>(row)].moeIndex;
      if (want < 0) continue;
      selected.clear();
      table.selectRow(row);
      QVERIFY(!selected.isEmpty());
      QCOMPARE(selected.last().at(0).toInt(), want);
      QCOMPARE(table.currentMoeIndex(), want);
      const int other = known[static_cast<size_t>((row + 40) % 94)].moeIndex;
      if (other < 0) continue;
      table.selectMoeIndex(other);
      QCOMPARE(table.currentMoeIndex(), other);
      QCOMPARE(table.rowOfMoeIndex(other), (row + 40) % 94);
    }

  // New values while sorted (exact errors arriving): re-sorted, the selection stays on its layer.
  table.sortByColumn(LayerTable::ErrorColumn, Qt::DescendingOrder);
  table.selectMoeIndex(20);
  std::vector<moe::widgets::LayerRow> changed = rows;
  for (auto& r : changed)
    if (r.moeIndex >= 0) r.error = 1.0 - 0.01 * r.moeIndex;  // decreasing in MoE index
  table.setRows(changed);
  QCOMPARE(table.currentMoeIndex(), 20);
  for (int r = 0; r < 91; ++r) QCOMPARE(table.moeIndexOfRow(r), r);
  QCOMPARE(table.rowOfMoeIndex(20), 20);
  // Rows are rewritten in place while sorted: every cell of a row still belongs to its layer (a
  // row that moved half-written would carry another layer's cells), with that layer's values.
  auto rowsIntact = [&](const std::vector<moe::widgets::LayerRow>& shown) {
    for (int r = 0; r < table.rowCount(); ++r) {
      const int moe = table.moeIndexOfRow(r);
      for (int c = 0; c < LayerTable::ColumnCount; ++c)
        if (table.item(r, c)->data(Qt::UserRole).toInt() != moe) return false;
      if (moe < 0) continue;
      const auto it = std::find_if(shown.begin(), shown.end(), [&](const auto& x) { return x.moeIndex == moe; });
      if (table.item(r, LayerTable::KColumn)->text() != QString::number(it->k)) return false;
    }
    return true;
  };
  QVERIFY(rowsIntact(changed));
  // One block's error and K change (a cut-line drag step): its row moves to its sorted place.
  changed[static_cast<size_t>(std::find_if(changed.begin(), changed.end(), [](const auto& x) { return x.moeIndex == 70; }) -
                              changed.begin())]
      .error = 2.0;
  for (auto& r : changed)
    if (r.moeIndex == 70) r.k = 3;
  table.setRows(changed);
  QCOMPARE(table.moeIndexOfRow(0), 70);
  QCOMPARE(table.moeIndexOfRow(1), 0);
  QVERIFY(rowsIntact(changed));
}

void ViewsScaleTest::layerOverviewHasOneRowPerLayer() {
  std::mt19937 rng(53);
  std::uniform_real_distribution<double> u(0.01, 3.0);
  std::vector<moe::widgets::OverviewLayer> layers;
  std::vector<std::vector<double>> blockHeights;
  for (int j = 0; j < 94; ++j) {
    moe::widgets::OverviewLayer l;
    l.layer = j + 3;
    l.moeIndex = j;
    const int e = j % 3 == 0 ? 128 : 160;
    std::vector<double> h(static_cast<size_t>(e - 1));
    for (double& v : h) v = u(rng);
    // Single/complete/average/ward heights never decrease; every fifth block has centroid-style
    // inversions, where the cut that leaves K clusters sits at the highest of the merges made.
    if (j % 5 != 0) std::sort(h.begin(), h.end());
    l.mergeHeights = h;
    l.k = 1 + j % 100;
    layers.push_back(l);
    blockHeights.push_back(h);
  }
  moe::widgets::LayerOverview overview;
  overview.resize(700, 700);
  overview.show();
  QVERIFY(QTest::qWaitForWindowExposed(&overview));
  overview.setLayers(layers);
  overview.replot();
  QCOMPARE(overview.rowCount(), 94);
  QCOMPARE(overview.columnCount(), 160);
  for (int r = 0; r < 94; ++r) {
    QCOMPARE(overview.moeIndexAtRow(r), r);
    const std::vector<double>& h = blockHeights[static_cast<size_t>(r)];
    const int64_t e = static_cast<int64_t>(h.size()) + 1;
    // K clusters remain after the first E - K merges: the cut sits at the highest of them.
    for (int64_t k = 1; k <= 160; ++k) {
      const double v = overview.cellValue(r, k);
      if (k > e) {
        QVERIFY2(std::isnan(v), qPrintable(QString("row %1 K %2").arg(r).arg(k)));
        continue;
      }
      const double top = *std::max_element(h.begin(), h.end());
      const double expected = k == e ? 0.0 : *std::max_element(h.begin(), h.begin() + (e - k)) / top;
      QVERIFY2(near(v, expected, 1e-12), qPrintable(QString("row %1 K %2: %3 vs %4").arg(r).arg(k).arg(v).arg(expected)));
    }
  }
  // Clicking a row selects that layer.
  QSignalSpy selected(&overview, &moe::widgets::LayerOverview::moeLayerSelected);
  for (int r : {0, 47, 93}) {
    const QPointF at = overview.cellCentre(r, 20);
    sendMouse(&overview, QEvent::MouseButtonPress, at, Qt::LeftButton, Qt::LeftButton);
    sendMouse(&overview, QEvent::MouseButtonRelease, at, Qt::LeftButton, Qt::NoButton);
    QCOMPARE(selected.last().at(0).toInt(), r);
    QCOMPARE(overview.currentMoeIndex(), r);
  }
}

QTEST_MAIN(ViewsScaleTest)
#include "test_views_scale.moc"
