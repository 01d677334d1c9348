#include "core/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <tuple>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/limits.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace moe {

size_t dtypeSize(DType dtype) {
  switch (dtype) {
    case DType::BF16:
    case DType::F16: return 2;
    case DType::F32: return 4;
    case DType::F8_E4M3:
    case DType::F8_E5M2:
    case DType::U8: return 1;
  }
  return 0;
}

const char* dtypeName(DType dtype) {
  switch (dtype) {
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::F32: return "F32";
    case DType::F8_E4M3: return "F8_E4M3";
    case DType::F8_E5M2: return "F8_E5M2";
    case DType::U8: return "U8";
  }
  return "?";
}

bool isFloatDType(DType dtype) { return dtype == DType::BF16 || dtype == DType::F16 || dtype == DType::F32; }

DType parseDType(const std::string& name, const std::string& context) {
  if (name == "BF16") return DType::BF16;
  if (name == "F16") return DType::F16;
  if (name == "F32") return DType::F32;
  if (name == "F8_E4M3") return DType::F8_E4M3;
  if (name == "F8_E5M2") return DType::F8_E5M2;
  if (name == "U8") return DType::U8;
  throw Error(ErrorKind::Unsupported, context + ": dtype " + name +
                                          " is not supported (supported: BF16, F16, F32, and in quantized "
                                          "checkpoints F8_E4M3, F8_E5M2, U8)");
}

std::string shapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t TensorInfo::numel() const { return limits::checkedNumel(shape, file + ": tensor '" + name + "'"); }

class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(ErrorKind::Io, path + ": cannot open (" + std::strerror(errno) + ")");
    struct stat st {};
    if (fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      throw Error(ErrorKind::Io, path + ": cannot stat (" + std::strerror(err) + ")");
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw Error(ErrorKind::Io, path + ": not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (p == MAP_FAILED) {
        ::close(fd_);
        throw Error(ErrorKind::Io, path + ": cannot map (" + std::strerror(errno) + ")");
      }
      data_ = static_cast<const uint8_t*>(p);
    }
  }
  ~MappedFile() {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

namespace {

// One tensor's entry in the header, as the reader saw it: the fields the checks look at, each
// kept as parsed (shape and data_offsets as JSON values, so that a bad one is quoted as written).
struct HeaderEntry {
  std::string name;
  bool isObject = true;
  bool hasDtype = false, hasShape = false, hasOffsets = false;
  bool dtypeIsString = false;
  std::string dtype;
  json shape, offsets;
};

// Builds a JSON value from SAX events (the header's small parts that are kept as JSON).
class JsonBuilder {
 public:
  explicit JsonBuilder(json* root) : root_(root) {}
  bool done() const { return done_; }
  template <typename V>
  void value(V&& v) {
    place(json(std::forward<V>(v)));
    if (stack_.empty()) done_ = true;
  }
  void start(json container) { stack_.push_back(place(std::move(container))); }
  void key(const std::string& k) { slot_ = &(*stack_.back())[k]; }
  void end() {
    stack_.pop_back();
    if (stack_.empty()) done_ = true;
  }

 private:
  json* place(json v) {
    if (stack_.empty()) return &(*root_ = std::move(v));
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    return &(*slot_ = std::move(v));
  }
  json* root_;
  std::vector<json*> stack_;
  json* slot_ = nullptr;
  bool done_ = false;
};

// Reads the header {"name": {"dtype": .., "shape": [..], "data_offsets": [b, e]}, ..,
// "__metadata__": {..}} as a stream of SAX events, one tensor entry at a time: a document tree of
// the whole header (nlohmann's DOM) took ~1 s and most of the allocations of opening a checkpoint
// of 95 K tensors (512 experts x 60 blocks). Each entry goes to `tensor` when it closes; the checks
// and their messages are those of the tree-based reading. Fields other than the three are skipped.
class HeaderReader : public nlohmann::json_sax<json> {
 public:
  using Tensor = std::function<void(HeaderEntry&)>;
  using Metadata = std::function<void(const json&)>;
  using Bad = std::function<Error(const std::string&)>;
  HeaderReader(Tensor tensor, Metadata metadata, Bad bad)
      : tensor_(std::move(tensor)), metadata_(std::move(metadata)), bad_(std::move(bad)) {}

  bool null() override { return scalar(json()); }
  bool boolean(bool v) override { return scalar(json(v)); }
  bool number_integer(number_integer_t v) override { return scalar(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return scalar(json(v)); }
  bool string(string_t& v) override {
    if (!capture_ && skip_ == 0 && level_ == 2 && field_ == Field::Dtype) {
      entry_.hasDtype = entry_.dtypeIsString = true;
      entry_.dtype = std::move(v);
      return true;
    }
    return scalar(json(std::move(v)));
  }
  bool binary(binary_t&) override { return scalar(json()); }  // not produced by the JSON parser
  bool start_object(std::size_t) override { return container(json::object()); }
  bool start_array(std::size_t) override { return container(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    if (capture_) {
      capture_->key(k);
    } else if (skip_ > 0) {
    } else if (level_ == 1) {
      name_ = k;
    } else if (level_ == 2) {
      field_ = k == "dtype" ? Field::Dtype : k == "shape" ? Field::Shape : k == "data_offsets" ? Field::Offsets : Field::Other;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    throw bad_(std::string("header is not valid JSON (") + e.what() + ")");
  }

 private:
  enum class Field { Dtype, Shape, Offsets, Other };

  // A value of a kept field (shape, data_offsets, __metadata__) starts being captured.
  json* target() {
    if (level_ == 1) return &metadataValue_;
    if (field_ == Field::Shape) return entry_.hasShape = true, &entry_.shape;
    return entry_.hasOffsets = true, &entry_.offsets;
  }
  bool kept() const {
    return (level_ == 1 && name_ == "__metadata__") || (level_ == 2 && (field_ == Field::Shape || field_ == Field::Offsets));
  }
  void captured() {
    capture_.reset();
    if (level_ == 1) metadata_(metadataValue_), metadataValue_ = json();
  }

  void startEntry(bool isObject) {
    entry_ = HeaderEntry();
    entry_.name = name_;
    entry_.isObject = isObject;
  }
  bool scalar(json v) {
    if (capture_) {
      capture_->value(std::move(v));
      if (capture_->done()) captured();
      return true;
    }
    if (skip_ > 0) return true;
    if (level_ == 0) throw bad_("header is not a JSON object");
    if (level_ == 1) {  // a top-level value that is not an object
      if (name_ == "__metadata__") throw bad_("__metadata__ is not an object");
      startEntry(false);
      tensor_(entry_);
      return true;
    }
    if (field_ == Field::Dtype) entry_.hasDtype = true, entry_.dtypeIsString = false;
    if (kept()) *target() = std::move(v);
    return true;
  }
  bool container(json empty) {
    if (capture_) {
      capture_->start(std::move(empty));
      return true;
    }
    if (skip_ > 0) return ++skip_, true;
    if (level_ == 0) {
      if (!empty.is_object()) throw bad_("header is not a JSON object");
      level_ = 1;
      return true;
    }
    if (level_ == 1 && name_ != "__metadata__") {
      if (empty.is_object()) {  // a tensor's entry
        startEntry(true);
        field_ = Field::Other;
        level_ = 2;
        return true;
      }
      startEntry(false);
      tensor_(entry_);
      skip_ = 1;
      return true;
    }
    if (level_ == 2 && field_ == Field::Dtype) entry_.hasDtype = true, entry_.dtypeIsString = false;
    if (!kept()) return skip_ = 1, true;
    capture_.emplace(target());
    capture_->start(std::move(empty));
    return true;
  }
  bool close() {
    if (capture_) {
      capture_->end();
      if (capture_->done()) captured();
      return true;
    }
    if (skip_ > 0) return --skip_, true;
    if (level_ == 2) {
      tensor_(entry_);
      level_ = 1;
    } else {
      level_ = 0;
    }
    return true;
  }

  Tensor tensor_;
  Metadata metadata_;
  Bad bad_;
  int level_ = 0;  // 0: before the header object, 1: in it, 2: in a tensor's entry
  int skip_ = 0;   // depth inside a value that is not kept
  std::optional<JsonBuilder> capture_;
  std::string name_;
  Field field_ = Field::Other;
  HeaderEntry entry_;
  json metadataValue_;
};

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  readerBoundary(path, [&] { parse(path); });
}

void SafetensorsFile::parse(const std::string& path) {
  map_ = std::make_unique<MappedFile>(path);
  const size_t size = map_->size();
  auto bad = [&](const std::string& what) { return Error(ErrorKind::Format, path + ": " + what); };
  if (size < 8) throw bad("file is " + std::to_string(size) + " bytes, too short for a safetensors header");
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, map_->data(), 8);  // little-endian on every platform we target
  if (headerLen > size - 8)
    throw bad("header length " + std::to_string(headerLen) + " runs past the end of the file (" +
              std::to_string(size) + " bytes); the file is truncated or not safetensors");
  if (headerLen > limits::kMaxSafetensorsHeader)
    throw bad("header length " + std::to_string(headerLen) + " exceeds the limit of " +
              std::to_string(limits::kMaxSafetensorsHeader) + " bytes (the safetensors reference implementation's cap)");
  header_.assign(reinterpret_cast<const char*>(map_->data() + 8), headerLen);
  const size_t dataStart = 8 + headerLen;
  const size_t dataSize = size - dataStart;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> ranges;  // begin, end, tensor
  auto addTensor = [&](HeaderEntry& entry) {
    const std::string& name = entry.name;
    const std::string ctx = "tensor '" + name + "'";
    if (!entry.isObject || !entry.hasDtype || !entry.hasShape || !entry.hasOffsets)
      throw bad(ctx + " lacks dtype, shape or data_offsets");
    if (!entry.dtypeIsString) throw bad(ctx + " has a dtype that is not a string");
    if (!entry.shape.is_array()) throw bad(ctx + " has a shape that is not a list");
    TensorInfo info;
    info.name = name;
    info.file = path;
    info.dtype = parseDType(entry.dtype, path + ": " + ctx);
    if (entry.shape.size() > static_cast<size_t>(limits::kMaxTensorRank))
      throw bad(ctx + " has " + std::to_string(entry.shape.size()) + " dimensions, more than the limit of " +
                std::to_string(limits::kMaxTensorRank));
    for (auto& d : entry.shape) {
      // An unsigned value above INT64_MAX reads as negative here and is refused with the rest.
      if (!d.is_number_integer() || d.get<int64_t>() < 0) throw bad(ctx + " has an invalid shape " + entry.shape.dump());
      info.shape.push_back(d.get<int64_t>());
    }
    const json& off = entry.offsets;
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw bad(ctx + " has invalid data_offsets");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > dataSize)
      throw bad(ctx + " data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                "] lie outside the data region of " + std::to_string(dataSize) + " bytes (file truncated?)");
    // Checked: a shape such as [2^62] in F32 would otherwise wrap the byte count to 0.
    const uint64_t expected = limits::checkedMul<uint64_t>(static_cast<uint64_t>(info.numel()), dtypeSize(info.dtype),
                                                           path + ": " + ctx + " " + shapeString(info.shape));
    if (end - begin != expected)
      throw bad(ctx + " occupies " + std::to_string(end - begin) + " bytes but " + dtypeName(info.dtype) +
                " x " + shapeString(info.shape) + " needs " + std::to_string(expected));
    info.data = map_->data() + dataStart + begin;
    info.nbytes = end - begin;
    if (tensors_.count(name)) throw bad(ctx + " appears twice in the header");
    ranges.emplace_back(begin, end, name);
    tensors_.emplace(name, std::move(info));
  };
  auto addMetadata = [&](const json& entry) {
    if (!entry.is_object()) throw bad("__metadata__ is not an object");
    for (auto& [k, v] : entry.items()) metadata_[k] = v.is_string() ? v.get<std::string>() : v.dump();
  };
  HeaderReader reader(addTensor, addMetadata, [&](const std::string& what) { return bad(what); });
  json::sax_parse(header_, &reader);
  // Compare each non-empty range with the furthest-reaching one before it (not just its
  // neighbour, which may be an empty tensor or a range nested inside an earlier one).
  std::sort(ranges.begin(), ranges.end());
  const std::tuple<uint64_t, uint64_t, std::string>* reach = nullptr;
  for (const auto& r : ranges) {
    if (std::get<0>(r) == std::get<1>(r)) continue;  // empty tensors occupy no bytes
    if (reach && std::get<0>(r) < std::get<1>(*reach))
      throw bad("tensors '" + std::get<2>(*reach) + "' and '" + std::get<2>(r) + "' overlap in the data region");
    if (!reach || std::get<1>(r) > std::get<1>(*reach)) reach = &r;
  }
}

SafetensorsFile::~SafetensorsFile() = default;

std::unique_ptr<TensorStore> TensorStore::openFiles(const std::vector<std::string>& files) {
  auto store = std::make_unique<TensorStore>();
  store->location_ = files.empty() ? std::string() : fs::path(files.front()).parent_path().string();
  for (const auto& f : files) {
    store->files_.push_back(std::make_unique<SafetensorsFile>(f));
    for (const auto& [name, info] : store->files_.back()->tensors()) {
      auto [it, inserted] = store->index_.emplace(name, &info);
      if (!inserted)
        throw Error(ErrorKind::Format, "tensor '" + name + "' appears in both " + it->second->file + " and " + f);
    }
  }
  return store;
}

std::unique_ptr<TensorStore> TensorStore::openFolder(const std::string& dir) {
  return readerBoundary(dir, [&] { return openFolderUnguarded(dir); });
}

std::unique_ptr<TensorStore> TensorStore::openFolderUnguarded(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error(ErrorKind::Io, dir + ": not a folder");
  const fs::path root(dir);
  const fs::path index = root / "model.safetensors.index.json";
  std::vector<std::string> files;
  if (fs::exists(index)) {
    std::ifstream in(index);
    std::error_code ec;
    const auto indexSize = fs::file_size(index, ec);
    if (!ec && indexSize > limits::kMaxJsonFile)
      throw Error(ErrorKind::Format, index.string() + ": " + std::to_string(indexSize) + " bytes, more than the " +
                                         std::to_string(limits::kMaxJsonFile) + "-byte limit");
    json j;
    try {
      j = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(ErrorKind::Format, index.string() + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw Error(ErrorKind::Format, index.string() + ": no weight_map object");
    std::vector<std::string> shards;
    for (auto& [name, shard] : j["weight_map"].items()) {
      if (!shard.is_string())
        throw Error(ErrorKind::Format, index.string() + ": weight_map entry '" + name + "' is not a file name");
      std::string s = shard.get<std::string>();
      if (s.empty() || s == "." || s.find('/') != std::string::npos || s.find('\\') != std::string::npos ||
          s.find("..") != std::string::npos)
        throw Error(ErrorKind::Format, index.string() + ": shard name '" + s + "' leaves the model folder");
      if (std::find(shards.begin(), shards.end(), s) == shards.end()) shards.push_back(s);
    }
    std::sort(shards.begin(), shards.end());
    for (auto& s : shards) {
      if (!fs::is_regular_file(root / s))
        throw Error(ErrorKind::Io, index.string() + " names shard " + s + ", which is missing");
      files.push_back((root / s).string());
    }
    auto store = openFiles(files);
    for (auto& [name, shard] : j["weight_map"].items()) {
      if (!store->has(name) || store->get(name).file != (root / shard.get<std::string>()).string())
        throw Error(ErrorKind::MissingTensor,
                    index.string() + " maps '" + name + "' to " + shard.get<std::string>() + ", which lacks it");
    }
    store->location_ = dir;
    return store;
  }
  if (fs::exists(root / "model.safetensors")) {
    auto store = openFiles({(root / "model.safetensors").string()});
    store->location_ = dir;
    return store;
  }
  for (const char* pickle : {"pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt", "consolidated.00.pth"}) {
    if (fs::exists(root / pickle))
      throw Error(ErrorKind::Unsupported,
                  dir + ": holds only pickle weights (" + pickle +
                      "); MoEScope never loads pickle files because they can run code. Convert the checkpoint "
                      "to safetensors first (save_pretrained(..., safe_serialization=True)).");
  }
  throw Error(ErrorKind::Io, dir + ": no model.safetensors or model.safetensors.index.json");
}

bool TensorStore::has(const std::string& name) const { return logical_.count(name) > 0 || index_.count(name) > 0; }

const TensorInfo& TensorStore::get(const std::string& name) const {
  auto logical = logical_.find(name);
  if (logical != logical_.end()) return logical->second;
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(ErrorKind::MissingTensor, location_ + ": tensor '" + name + "' is missing");
  return *it->second;
}

std::vector<std::string> TensorStore::names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (auto& [n, _] : index_) out.push_back(n);
  return out;
}

void TensorStore::addLogical(TensorInfo info) {
  const std::string name = info.name;
  if (info.values) owner_[info.values->name] = name;
  if (info.scale) owner_[info.scale->name] = name;
  logical_[name] = std::move(info);
}

std::string TensorStore::logicalNameOf(const std::string& storedName) const {
  auto it = owner_.find(storedName);
  return it == owner_.end() ? storedName : it->second;
}

std::vector<std::string> TensorStore::storedNamesOf(const std::string& name) const {
  auto it = logical_.find(name);
  if (it == logical_.end() || !it->second.quantized()) return {name};
  std::vector<std::string> out{it->second.values->name};
  if (it->second.scale) out.push_back(it->second.scale->name);
  return out;
}

void releaseMappedPages(const TensorInfo& info) {
  if (info.scale) releaseMappedPages(*info.scale);
  if (!info.data || info.nbytes == 0) return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(info.data) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(info.data) + info.nbytes + page - 1) & ~(page - 1);
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

bool readIntoPageCache(const TensorInfo& info, const std::atomic<bool>& stop) {
  if (!info.data || info.nbytes == 0) return true;
  // One read per page, then the pages are unmapped again, 8 MB at a time. (MADV_WILLNEED alone
  // reads only the first readahead window of a range.)
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  constexpr uintptr_t kStep = uintptr_t{8} << 20;
  const uintptr_t first = reinterpret_cast<uintptr_t>(info.data) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(info.data) + info.nbytes;
  for (uintptr_t begin = first; begin < end; begin += kStep) {
    if (stop) return false;
    const uintptr_t stepEnd = std::min(end, begin + kStep);
    volatile uint8_t sink = 0;
    for (uintptr_t p = std::max(begin, reinterpret_cast<uintptr_t>(info.data)); p < stepEnd; p = (p & ~(page - 1)) + page)
      sink = sink + *reinterpret_cast<const uint8_t*>(p);
    (void)sink;
    madvise(reinterpret_cast<void*>(begin), ((stepEnd + page - 1) & ~(page - 1)) - begin, MADV_DONTNEED);
  }
  return true;
}

void writeSafetensors(const std::string& path, const std::vector<const TensorBlob*>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorBlob*> sorted = tensors;
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorBlob* t : sorted) {
    const int64_t n = limits::checkedNumel(t->shape, path + ": tensor '" + t->name + "'");
    if (limits::checkedMul<uint64_t>(static_cast<uint64_t>(n), dtypeSize(t->dtype), path + ": tensor '" + t->name + "'") !=
        t->bytes.size())
      throw Error(ErrorKind::InvalidArgument, path + ": tensor '" + t->name + "' has " +
                                                  std::to_string(t->bytes.size()) + " bytes for shape " +
                                                  shapeString(t->shape));
    header[t->name] = {{"dtype", dtypeName(t->dtype)}, {"shape", t->shape}, {"data_offsets", {offset, offset + t->bytes.size()}}};
    offset += t->bytes.size();
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // keep the data region 8-byte aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorKind::Io, path + ": cannot create (" + std::strerror(errno) + ")");
  uint64_t len = h.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const TensorBlob* t : sorted) out.write(reinterpret_cast<const char*>(t->bytes.data()), static_cast<std::streamsize>(t->bytes.size()));
  out.flush();
  if (!out) throw Error(ErrorKind::Io, path + ": write failed (disk full?)");
}

}  // namespace moe
