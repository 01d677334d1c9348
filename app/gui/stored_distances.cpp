#include "app/gui/stored_distances.h"

#include <cmath>

#include "core/error.h"
#include "core/io/h5file.h"

namespace moe {
namespace gui {

StoredDistances readStoredDistances(const std::string& storePath, int moeIndex, int64_t experts) {
  const moe::h5::File f(storePath, moe::h5::File::Mode::Read);
  const std::string group = "layers/" + std::to_string(moeIndex) + "/distance";
  StoredDistances out;
  if (!f.exists(group)) return out;
  for (moe::Representation r : moe::allRepresentations())
    for (const char* metric : {"euclidean", "cosine"}) {
      const std::string name = group + "/" + moe::representationName(r) + "_" + metric;
      if (!f.exists(name)) continue;
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
      out.emplace(DistanceKey{r, metric}, std::move(m));
    }
  return out;
}

}  // namespace gui
}  // namespace moe
