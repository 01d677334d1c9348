// The explorer's reads of stored distance matrices (app/gui/stored_distances): values read with
// plain file reads where the store keeps them contiguously as doubles, through HDF5 otherwise, into
// a recycled buffer or a fresh one, and the same Format errors naming the dataset either way.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <string>
#include <vector>

#include "app/gui/analysis_data.h"
#include "app/gui/stored_distances.h"
#include "core/analysis/store.h"
#include "core/error.h"
#include "core/io/h5file.h"

using moe::gui::DistanceKey;
using moe::gui::readStoredDistance;

namespace {

constexpr int64_t kExperts = 37;  // not a multiple of any vector or cache-line width

std::vector<double> values(double shift) {
  std::vector<double> v(static_cast<size_t>(kExperts * kExperts));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sqrt(static_cast<double>(i)) + shift;
  return v;
}

std::string dataset(int block, const DistanceKey& key) {
  return moe::AnalysisStore::distanceDataset(block, key.first, key.second);
}

}  // namespace

class StoredDistancesTest : public QObject {
  Q_OBJECT

 private slots:
  void readsEqualHdf5sOwn();
  void errorsNameTheDataset();
};

void StoredDistancesTest::readsEqualHdf5sOwn() {
  QTemporaryDir dir;
  const std::string path = dir.filePath("store.h5").toStdString();
  const DistanceKey euclidean{moe::Representation::ExpertOutput, "euclidean"};
  const DistanceKey cosine{moe::Representation::ExpertOutput, "cosine"};
  const std::vector<double> a = values(0.25);
  std::vector<float> b(a.size());
  for (size_t i = 0; i < a.size(); ++i) b[i] = static_cast<float>(a[i] / 3);
  {
    moe::h5::File f(path, moe::h5::File::Mode::Create);
    f.write(dataset(0, euclidean), a.data(), {kExperts, kExperts});
    f.write(dataset(0, cosine), b.data(), {kExperts, kExperts});  // float32: HDF5 converts it
  }
  const moe::h5::File f(path, moe::h5::File::Mode::Read);
  QVERIFY(f.contiguousDoublesOffset(dataset(0, euclidean)).has_value());
  QVERIFY(!f.contiguousDoublesOffset(dataset(0, cosine)).has_value());
  for (const DistanceKey& key : {euclidean, cosine}) {
    const std::vector<double> expected = f.readDouble(dataset(0, key)).data;
    // Fresh, recycled larger and filled with other values, recycled smaller than needed.
    std::vector<std::vector<double>> buffers = {{}, std::vector<double>(a.size() + 100, -7.0), std::vector<double>(5, -7.0)};
    for (std::vector<double>& buffer : buffers) {
      const std::optional<moe::Matrix> m = readStoredDistance(path, 0, kExperts, key, std::move(buffer));
      QVERIFY(m.has_value());
      QCOMPARE(m->rows, kExperts);
      QCOMPARE(m->cols, kExperts);
      QVERIFY(m->data == expected);  // bit for bit
    }
  }
  QVERIFY(!readStoredDistance(path, 1, kExperts, euclidean).has_value());  // not in the store

  // The explorer's cache recycles what it drops: the next read (another choice) uses that memory
  // and returns that choice's values.
  moe::gui::AnalysisData data;
  data.storePath = path;
  moe::LayerStats stats;
  stats.numExperts = kExperts;
  data.layers.push_back(stats);
  QVERIFY(data.distanceMatrix(0, euclidean.first, euclidean.second).data == a);
  data.keepDistances({});
  QCOMPARE(data.heldDistances(), size_t{0});
  QVERIFY(data.distanceMatrix(0, cosine.first, cosine.second).data == f.readDouble(dataset(0, cosine)).data);
  QVERIFY(data.distanceMatrixCopy(0, euclidean.first, euclidean.second).data == a);
}

void StoredDistancesTest::errorsNameTheDataset() {
  QTemporaryDir dir;
  const std::string path = dir.filePath("store.h5").toStdString();
  const DistanceKey key{moe::Representation::Weights, "euclidean"};
  std::vector<double> bad = values(0);
  bad[5] = NAN;
  {
    moe::h5::File f(path, moe::h5::File::Mode::Create);
    f.write(dataset(0, key), bad.data(), {kExperts, kExperts});
    f.write(dataset(1, key), bad.data(), {kExperts - 1, kExperts + 1});
  }
  auto message = [&](int block) -> std::string {
    try {
      readStoredDistance(path, block, kExperts, key, std::vector<double>(10));
    } catch (const moe::Error& e) {
      return std::string(e.kind() == moe::ErrorKind::Format ? "" : "(not a Format error) ") + e.what();
    }
    return "accepted";
  };
  QCOMPARE(QString::fromStdString(message(0)),
           QString::fromStdString(path + ": dataset '" + dataset(0, key) + "' holds a non-finite value"));
  QCOMPARE(QString::fromStdString(message(1)),
           QString::fromStdString(path + ": dataset '" + dataset(1, key) + "' is not [37, 37]"));
}

QTEST_GUILESS_MAIN(StoredDistancesTest)
#include "test_stored_distances.moc"
