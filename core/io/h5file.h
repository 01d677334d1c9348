#pragma once
// Thin RAII wrapper over the HDF5 C API: the numeric arrays and attributes MoEScope reads
// (reference files, token ids) and writes (forward outputs, the analysis store).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moe::h5 {

using Shape = std::vector<int64_t>;

template <typename T>
struct Array {
  std::vector<T> data;
  Shape shape;
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
};

class File {
 public:
  enum class Mode { Read, ReadWrite, Create /* truncates */ };

  File(const std::string& path, Mode mode);
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }

  // True when an object (group or dataset) exists at this slash-separated path.
  bool exists(const std::string& objectPath) const;
  bool isDataset(const std::string& objectPath) const;
  // Names of the direct children of a group, sorted.
  std::vector<std::string> children(const std::string& groupPath) const;
  Shape shape(const std::string& dataset) const;

  // Reads any numeric dataset, converting to the requested element type.
  Array<float> readFloat(const std::string& dataset) const;
  Array<double> readDouble(const std::string& dataset) const;
  // The same, into `storage`'s memory where its capacity suffices: a recycled buffer is already
  // paged in, a fresh one of a few MB costs a page fault per 4 KB, most of such a read's time.
  Array<double> readDouble(const std::string& dataset, std::vector<double>&& storage) const;
  Array<int64_t> readInt(const std::string& dataset) const;
  // Where the values of a dataset stored contiguously, uncompressed, as little-endian IEEE doubles
  // lie in the file (byte offset), on a little-endian host; nullopt for any other layout or type.
  // Such bytes can be read with plain file reads, outside the HDF5 library and its lock, by
  // several threads at once. Throws moe::Error(Format) when there is no such dataset.
  std::optional<int64_t> contiguousDoublesOffset(const std::string& dataset) const;

  // Writes (replacing an existing dataset of that name); parent groups are created. An empty
  // shape writes a scalar dataset (one value).
  void write(const std::string& dataset, const float* data, const Shape& shape);
  void write(const std::string& dataset, const double* data, const Shape& shape);
  void write(const std::string& dataset, const int64_t* data, const Shape& shape);
  void createGroup(const std::string& groupPath);
  void remove(const std::string& objectPath);

  bool hasAttribute(const std::string& objectPath, const std::string& name) const;
  // Both read exactly one value: a missing attribute, another type or an array attribute is a
  // Format error naming the attribute and its object.
  std::string readStringAttribute(const std::string& objectPath, const std::string& name) const;
  double readNumberAttribute(const std::string& objectPath, const std::string& name) const;
  void writeAttribute(const std::string& objectPath, const std::string& name, const std::string& value);
  void writeAttribute(const std::string& objectPath, const std::string& name, double value);
  // A 1-D numeric attribute (MoEScope reads scalars only; tests write these to check that refusal).
  void writeAttribute(const std::string& objectPath, const std::string& name, const std::vector<double>& values);

  void flush();

 private:
  template <typename T>
  Array<T> readAs(const std::string& dataset, int64_t memType, std::vector<T>&& storage = {}) const;
  void writeRaw(const std::string& dataset, const void* data, const Shape& shape, int64_t memType);
  void ensureParents(const std::string& objectPath);

  std::string path_;
  int64_t id_ = -1;
};

// "file.h5:dataset/path" -> {file, dataset}; throws moe::Error when the colon part is missing.
std::pair<std::string, std::string> splitFileDataset(const std::string& spec);

}  // namespace moe::h5
