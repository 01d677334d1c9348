#include "core/io/h5file.h"

#include <hdf5.h>

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace moe::h5 {
namespace {

std::string shapeText(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

[[noreturn]] void fail(ErrorKind kind, const std::string& file, const std::string& what) {
  throw Error(kind, file + ": " + what);
}

// RAII for the HDF5 ids opened inside one call.
struct Handle {
  hid_t id;
  herr_t (*closer)(hid_t);
  Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), closer(c) {}
  ~Handle() {
    if (id >= 0) closer(id);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

// HDF5 prints a stack trace to stderr on every failed call; our errors carry their own context.
struct SilenceHdf5 {
  SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};
const SilenceHdf5 silenceOnLoad;

// Elements in an attribute's dataspace (1 for a scalar); -1 when HDF5 cannot tell.
hssize_t attributeElements(hid_t attr) {
  Handle space(H5Aget_space(attr), H5Sclose);
  return space.id < 0 ? -1 : H5Sget_simple_extent_npoints(space.id);
}

bool linkExists(hid_t file, const std::string& path) {
  // H5Lexists fails on a missing intermediate group, so walk the path component by component.
  std::string sofar;
  size_t start = path.front() == '/' ? 1 : 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    sofar += "/" + path.substr(start, end - start);
    if (H5Lexists(file, sofar.c_str(), H5P_DEFAULT) <= 0) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

File::File(const std::string& path, Mode mode) : path_(path) {
  hid_t id = -1;
  switch (mode) {
    case Mode::Read:
      if (H5Fis_hdf5(path.c_str()) <= 0)
        fail(ErrorKind::Io, path, "cannot open as an HDF5 file (missing, unreadable or not HDF5)");
      id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
      break;
    case Mode::ReadWrite:
      id = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      break;
    case Mode::Create:
      id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
      break;
  }
  if (id < 0) fail(ErrorKind::Io, path, "cannot open HDF5 file");
  id_ = id;
}

File::~File() {
  if (id_ >= 0) H5Fclose(id_);
}

File::File(File&& other) noexcept : path_(std::move(other.path_)), id_(std::exchange(other.id_, -1)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0) H5Fclose(id_);
    path_ = std::move(other.path_);
    id_ = std::exchange(other.id_, -1);
  }
  return *this;
}

bool File::exists(const std::string& objectPath) const {
  if (objectPath.empty() || objectPath == "/") return true;
  return linkExists(id_, objectPath);
}

bool File::isDataset(const std::string& objectPath) const {
  if (!exists(objectPath)) return false;
  // H5Iget_type on the opened object works on every HDF5 1.10+ (the H5Oget_info API changed twice).
  Handle obj(H5Oopen(id_, objectPath.c_str(), H5P_DEFAULT), H5Oclose);
  return obj.id >= 0 && H5Iget_type(obj.id) == H5I_DATASET;
}

std::vector<std::string> File::children(const std::string& groupPath) const {
  const std::string g = groupPath.empty() ? "/" : groupPath;
  if (!exists(g)) fail(ErrorKind::Format, path_, "no group '" + g + "'");
  Handle group(H5Gopen2(id_, g.c_str(), H5P_DEFAULT), H5Gclose);
  if (group.id < 0) fail(ErrorKind::Format, path_, "'" + g + "' is not a group");
  H5G_info_t info;
  H5Gget_info(group.id, &info);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t len = H5Lget_name_by_idx(group.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string name(static_cast<size_t>(len), '\0');
    H5Lget_name_by_idx(group.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Shape File::shape(const std::string& dataset) const {
  if (!isDataset(dataset)) fail(ErrorKind::Format, path_, "no dataset '" + dataset + "'");
  Handle ds(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  Handle space(H5Dget_space(ds.id), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.id);
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  return Shape(dims.begin(), dims.end());
}

std::optional<int64_t> File::contiguousDoublesOffset(const std::string& dataset) const {
  if (!isDataset(dataset)) fail(ErrorKind::Format, path_, "no dataset '" + dataset + "'");
  Handle ds(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  Handle plist(H5Dget_create_plist(ds.id), H5Pclose);
  Handle type(H5Dget_type(ds.id), H5Tclose);
  if (ds.id < 0 || plist.id < 0 || type.id < 0) return std::nullopt;
  if (H5Pget_layout(plist.id) != H5D_CONTIGUOUS || H5Pget_nfilters(plist.id) != 0) return std::nullopt;
  if (H5Tequal(type.id, H5T_IEEE_F64LE) <= 0 || H5Tequal(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE) <= 0) return std::nullopt;
  const haddr_t offset = H5Dget_offset(ds.id);  // undefined while no value has been written
  if (offset == HADDR_UNDEF) return std::nullopt;
  return static_cast<int64_t>(offset);
}

template <typename T>
Array<T> File::readAs(const std::string& dataset, int64_t memType, std::vector<T>&& storage) const {
  Array<T> out;
  out.data = std::move(storage);
  out.shape = shape(dataset);
  // A hand-made file may declare any extent: refuse counts that overflow or exceed what a
  // MoEScope file can hold (2^40 elements) instead of failing inside the allocator.
  constexpr int64_t kMaxElements = int64_t{1} << 40;
  int64_t n = 1;
  for (int64_t d : out.shape) {
    if (d < 0 || (d > 0 && n > kMaxElements / d))
      fail(ErrorKind::Format, path_, "dataset '" + dataset + "' is too large (shape " + shapeText(out.shape) + ")");
    n *= d;
  }
  out.data.resize(static_cast<size_t>(n));
  Handle ds(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  Handle type(H5Dget_type(ds.id), H5Tclose);
  H5T_class_t cls = H5Tget_class(type.id);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    fail(ErrorKind::Format, path_, "dataset '" + dataset + "' is not numeric");
  if (n > 0 && H5Dread(ds.id, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data.data()) < 0)
    fail(ErrorKind::Io, path_, "cannot read dataset '" + dataset + "'");
  return out;
}

Array<float> File::readFloat(const std::string& dataset) const { return readAs<float>(dataset, H5T_NATIVE_FLOAT); }
Array<double> File::readDouble(const std::string& dataset) const { return readAs<double>(dataset, H5T_NATIVE_DOUBLE); }
Array<double> File::readDouble(const std::string& dataset, std::vector<double>&& storage) const {
  return readAs<double>(dataset, H5T_NATIVE_DOUBLE, std::move(storage));
}
Array<int64_t> File::readInt(const std::string& dataset) const { return readAs<int64_t>(dataset, H5T_NATIVE_INT64); }

void File::ensureParents(const std::string& objectPath) {
  size_t pos = objectPath.front() == '/' ? 1 : 0;
  while ((pos = objectPath.find('/', pos)) != std::string::npos) {
    createGroup(objectPath.substr(0, pos));
    ++pos;
  }
}

void File::createGroup(const std::string& groupPath) {
  if (groupPath.empty() || groupPath == "/" || exists(groupPath)) return;
  ensureParents(groupPath);
  Handle g(H5Gcreate2(id_, groupPath.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (g.id < 0) fail(ErrorKind::Io, path_, "cannot create group '" + groupPath + "'");
}

void File::remove(const std::string& objectPath) {
  if (exists(objectPath) && H5Ldelete(id_, objectPath.c_str(), H5P_DEFAULT) < 0)
    fail(ErrorKind::Io, path_, "cannot remove '" + objectPath + "'");
}

void File::writeRaw(const std::string& dataset, const void* data, const Shape& shape, int64_t memType) {
  remove(dataset);
  ensureParents(dataset);
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
               H5Sclose);
  Handle ds(H5Dcreate2(id_, dataset.c_str(), memType, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (ds.id < 0) fail(ErrorKind::Io, path_, "cannot create dataset '" + dataset + "'");
  if (H5Dwrite(ds.id, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(ErrorKind::Io, path_, "cannot write dataset '" + dataset + "' (disk full?)");
}

void File::write(const std::string& d, const float* p, const Shape& s) { writeRaw(d, p, s, H5T_NATIVE_FLOAT); }
void File::write(const std::string& d, const double* p, const Shape& s) { writeRaw(d, p, s, H5T_NATIVE_DOUBLE); }
void File::write(const std::string& d, const int64_t* p, const Shape& s) { writeRaw(d, p, s, H5T_NATIVE_INT64); }

bool File::hasAttribute(const std::string& objectPath, const std::string& name) const {
  if (!exists(objectPath)) return false;
  return H5Aexists_by_name(id_, objectPath.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

std::string File::readStringAttribute(const std::string& objectPath, const std::string& name) const {
  if (!hasAttribute(objectPath, name))
    fail(ErrorKind::Format, path_, "no attribute '" + name + "' on '" + objectPath + "'");
  Handle attr(H5Aopen_by_name(id_, objectPath.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.id), H5Tclose);
  if (H5Tget_class(type.id) != H5T_STRING)
    fail(ErrorKind::Format, path_, "attribute '" + name + "' on '" + objectPath + "' is not a string");
  // One value only: reading an array attribute into one string would write past it.
  if (attributeElements(attr.id) != 1)
    fail(ErrorKind::Format, path_, "attribute '" + name + "' on '" + objectPath + "' holds " +
                                       std::to_string(attributeElements(attr.id)) + " strings, expected one");
  if (H5Tis_variable_str(type.id) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.id, H5T_VARIABLE);
    H5Tset_cset(mem.id, H5Tget_cset(type.id));
    char* value = nullptr;
    if (H5Aread(attr.id, mem.id, &value) < 0) fail(ErrorKind::Io, path_, "cannot read attribute '" + name + "'");
    std::string out = value ? value : "";
    H5free_memory(value);
    return out;
  }
  size_t size = H5Tget_size(type.id);
  std::string out(size, '\0');
  if (size > 0 && H5Aread(attr.id, type.id, out.data()) < 0)
    fail(ErrorKind::Io, path_, "cannot read attribute '" + name + "'");
  out.resize(std::min(out.find('\0'), out.size()));
  return out;
}

double File::readNumberAttribute(const std::string& objectPath, const std::string& name) const {
  if (!hasAttribute(objectPath, name))
    fail(ErrorKind::Format, path_, "no attribute '" + name + "' on '" + objectPath + "'");
  Handle attr(H5Aopen_by_name(id_, objectPath.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.id), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.id);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    fail(ErrorKind::Format, path_, "attribute '" + name + "' on '" + objectPath + "' is not numeric");
  // One number only: H5Aread writes every element, and `value` has room for one.
  const hssize_t elements = attributeElements(attr.id);
  if (elements != 1)
    fail(ErrorKind::Format, path_, "attribute '" + name + "' on '" + objectPath + "' holds " +
                                       std::to_string(elements) + " values, expected one number");
  double value = 0;
  if (H5Aread(attr.id, H5T_NATIVE_DOUBLE, &value) < 0)
    fail(ErrorKind::Format, path_, "attribute '" + name + "' on '" + objectPath + "' is not numeric");
  return value;
}

void File::writeAttribute(const std::string& objectPath, const std::string& name, const std::string& value) {
  if (hasAttribute(objectPath, name)) H5Adelete_by_name(id_, objectPath.c_str(), name.c_str(), H5P_DEFAULT);
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id, H5T_VARIABLE);
  H5Tset_cset(type.id, H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate_by_name(id_, objectPath.c_str(), name.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT),
              H5Aclose);
  const char* p = value.c_str();
  if (attr.id < 0 || H5Awrite(attr.id, type.id, &p) < 0)
    fail(ErrorKind::Io, path_, "cannot write attribute '" + name + "' on '" + objectPath + "'");
}

void File::writeAttribute(const std::string& objectPath, const std::string& name, double value) {
  if (hasAttribute(objectPath, name)) H5Adelete_by_name(id_, objectPath.c_str(), name.c_str(), H5P_DEFAULT);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate_by_name(id_, objectPath.c_str(), name.c_str(), H5T_NATIVE_DOUBLE, space.id, H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  if (attr.id < 0 || H5Awrite(attr.id, H5T_NATIVE_DOUBLE, &value) < 0)
    fail(ErrorKind::Io, path_, "cannot write attribute '" + name + "' on '" + objectPath + "'");
}

void File::writeAttribute(const std::string& objectPath, const std::string& name, const std::vector<double>& values) {
  if (hasAttribute(objectPath, name)) H5Adelete_by_name(id_, objectPath.c_str(), name.c_str(), H5P_DEFAULT);
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle attr(H5Acreate_by_name(id_, objectPath.c_str(), name.c_str(), H5T_NATIVE_DOUBLE, space.id, H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  if (attr.id < 0 || (n > 0 && H5Awrite(attr.id, H5T_NATIVE_DOUBLE, values.data()) < 0))
    fail(ErrorKind::Io, path_, "cannot write attribute '" + name + "' on '" + objectPath + "'");
}

void File::flush() { H5Fflush(id_, H5F_SCOPE_GLOBAL); }

std::pair<std::string, std::string> splitFileDataset(const std::string& spec) {
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    throw Error(ErrorKind::InvalidArgument, "expected FILE.h5:DATASET, got '" + spec + "'");
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

}  // namespace moe::h5
