#include "app/gui/stored_distances.h"

#include <cmath>

#include "core/error.h"
#include "core/io/h5file.h"

namespace moe {
namespace gui {

namespace {

std::optional<moe::Matrix> readOne(const moe::h5::File& f, const std::string& storePath, int moeIndex,
                                   int64_t experts, const DistanceKey& key) {
  const std::string name = "layers/" + std::to_string(moeIndex) + "/distance/" +
                           moe::representationName(key.first) + "_" + key.second;
  if (!f.exists(name)) return std::nullopt;
  auto fail = [&](const std::string& what) {
    throw moe::Error(moe::ErrorKind::Format, storePath + ": dataset '" + name + "' " + what);
  };
  if (!f.isDataset(name)) fail("is not a dataset");
  auto a = f.readDouble(name);
  if (a.shape != std::vector<int64_t>{experts, experts})
    fail("is not [" + std::to_string(experts) + ", " + std::to_string(experts) + "]");
  for (double v : a.data)
    if (!std::isfinite(v)) fail("holds a non-finite value");
  moe::Matrix m;
  m.rows = m.cols = experts;
  m.data = std::move(a.data);
  return m;
}

}  // namespace

StoredDistances readStoredDistances(const std::string& storePath, int moeIndex, int64_t experts) {
  const moe::h5::File f(storePath, moe::h5::File::Mode::Read);
  StoredDistances out;
  if (!f.exists("layers/" + std::to_string(moeIndex) + "/distance")) return out;
  for (moe::Representation r : moe::allRepresentations())
    for (const char* metric : {"euclidean", "cosine"})
      if (auto m = readOne(f, storePath, moeIndex, experts, {r, metric})) out.emplace(DistanceKey{r, metric}, std::move(*m));
  return out;
}

bool holdsStoredDistances(const std::string& storePath, int moeIndex, moe::Representation representation) {
  const moe::h5::File f(storePath, moe::h5::File::Mode::Read);
  for (const char* metric : {"euclidean", "cosine"})
    if (!f.exists("layers/" + std::to_string(moeIndex) + "/distance/" + moe::representationName(representation) +
                  "_" + metric))
      return false;
  return true;
}

std::optional<moe::Matrix> readStoredDistance(const std::string& storePath, int moeIndex, int64_t experts,
                                              const DistanceKey& key) {
  const moe::h5::File f(storePath, moe::h5::File::Mode::Read);
  return readOne(f, storePath, moeIndex, experts, key);
}

}  // namespace gui
}  // namespace moe
