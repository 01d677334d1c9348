#include "app/gui/stored_distances.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
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

// `bytes` bytes of `path` from `offset` on, with plain reads (no HDF5 call, so no lock).
void readBytesAt(const std::string& path, int64_t offset, size_t bytes, void* out,
                 const std::function<void(const std::string&)>& fail) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::string("cannot be read: ") + std::strerror(errno));  // fail throws
  auto* at = static_cast<char*>(out);
  size_t done = 0;
  std::string error;
  while (done < bytes && error.empty()) {
    const ssize_t n = ::pread(fd, at + done, bytes - done, static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (n > 0)
      done += static_cast<size_t>(n);
    else if (n == 0)
      error = "ends before its values (truncated file?)";
    else if (errno != EINTR)
      error = std::string("cannot be read: ") + std::strerror(errno);
  }
  ::close(fd);
  if (!error.empty()) fail(error);
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
                                              const DistanceKey& key, std::vector<double>&& storage) {
  const std::string name = datasetName(moeIndex, key);
  auto fail = [&](const std::string& what) {
    throw moe::Error(moe::ErrorKind::Format, storePath + ": dataset '" + name + "' " + what);
  };
  moe::h5::Array<double> a;
  std::optional<int64_t> offset;  // of values that plain file reads can take
  {
    // One HDF5 call at a time from this process's readers (the threads of a clustering switch):
    // nothing rests on the HDF5 build's own locking.
    static std::mutex readLock;
    const std::lock_guard<std::mutex> lock(readLock);
    const moe::h5::File f(storePath, moe::h5::File::Mode::Read);
    if (!f.exists(name)) return std::nullopt;
    if (!f.isDataset(name)) fail("is not a dataset");
    a.shape = f.shape(name);
    if (a.shape == std::vector<int64_t>{experts, experts}) offset = f.contiguousDoublesOffset(name);
    if (!offset) a = f.readDouble(name, std::move(storage));
  }
  if (a.shape != std::vector<int64_t>{experts, experts})
    fail("is not [" + std::to_string(experts) + ", " + std::to_string(experts) + "]");
  if (offset) {
    // The values themselves outside the lock: the threads of a switch read blocks side by side
    // (at 512 experts 60 reads of 2 MB one at a time were most of a switch to distances not read
    // before). The store is written by this process's analysis only for blocks not shown yet.
    a.data = std::move(storage);
    a.data.resize(static_cast<size_t>(experts) * static_cast<size_t>(experts));
    readBytesAt(storePath, *offset, a.data.size() * sizeof(double), a.data.data(), fail);
  }
  for (double v : a.data)
    if (!std::isfinite(v)) fail("holds a non-finite value");
  moe::Matrix m;
  m.rows = m.cols = experts;
  m.data = std::move(a.data);
  return m;
}

}  // namespace gui
}  // namespace moe
