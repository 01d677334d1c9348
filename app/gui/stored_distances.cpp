#include "app/gui/stored_distances.h"

#include <cmath>
#include <mutex>

#include "core/analysis/store.h"
#include "core/error.h"
#include "core/io/h5file.h"

namespace moe {
namespace gui {

namespace {

// The dataset core's AnalysisStore::writeLayer writes for block `moeIndex` under `key`.
std::string datasetName(int moeIndex, const DistanceKey& key) {
  return moe::AnalysisStore::distanceDataset(moeIndex, key.first, key.second);
}

}  // namespace

std::set<moe::Representation> representationsWithStoredDistances(const std::string& storePath, int moeIndex) {
  const moe::h5::File f(storePath, moe::h5::File::Mode::Read);
  std::set<moe::Representation> held;
  for (moe::Representation r : moe::allRepresentations())
    if (f.exists(datasetName(moeIndex, {r, "euclidean"})) && f.exists(datasetName(moeIndex, {r, "cosine"})))
      held.insert(r);
  return held;
}

std::optional<moe::Matrix> readStoredDistance(const std::string& storePath, int moeIndex, int64_t experts,
                                              const DistanceKey& key) {
  const std::string name = datasetName(moeIndex, key);
  auto fail = [&](const std::string& what) {
    throw moe::Error(moe::ErrorKind::Format, storePath + ": dataset '" + name + "' " + what);
  };
  moe::h5::Array<double> a;
  {
    // One read at a time from this process's readers (the threads of a clustering switch): the
    // checks and the linkage after it run in parallel, and nothing rests on the HDF5 build's
    // own locking.
    static std::mutex readLock;
    const std::lock_guard<std::mutex> lock(readLock);
    const moe::h5::File f(storePath, moe::h5::File::Mode::Read);
    if (!f.exists(name)) return std::nullopt;
    if (!f.isDataset(name)) fail("is not a dataset");
    a = f.readDouble(name);
  }
  if (a.shape != std::vector<int64_t>{experts, experts})
    fail("is not [" + std::to_string(experts) + ", " + std::to_string(experts) + "]");
  for (double v : a.data)
    if (!std::isfinite(v)) fail("holds a non-finite value");
  moe::Matrix m;
  m.rows = m.cols = experts;
  m.data = std::move(a.data);
  return m;
}

}  // namespace gui
}  // namespace moe
