#pragma once
// Memory-mapped safetensors reading (single files and sharded checkpoints) and writing.
// No torch here: the engine wraps the mapped bytes into tensors only when a layer runs, which is
// what lets a checkpoint larger than RAM be analysed layer by layer.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace moe {

// F8_E4M3 / F8_E5M2 (FP8 weights) and U8 (MXFP4 blocks and E8M0 scales) occur only in quantized
// checkpoints; core/model/quant.h gives them their meaning, and the engine never computes in them.
enum class DType { BF16, F16, F32, F8_E4M3, F8_E5M2, U8 };

size_t dtypeSize(DType dtype);
const char* dtypeName(DType dtype);  // safetensors spelling: "BF16", "F16", "F32", "F8_E4M3", ...
bool isFloatDType(DType dtype);      // BF16, F16, F32: the dtypes a tensor can be computed in as stored
DType parseDType(const std::string& name, const std::string& context);

std::string shapeString(const std::vector<int64_t>& shape);  // "[8, 64]"

// How a logical tensor is stored (core/model/quant.h).
enum class QuantFormat { None, Fp8, Mxfp4 };

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // inside the mapping; valid while the owning file lives
  size_t nbytes = 0;
  std::string file;               // the shard it lives in, for error messages
  // Quantized storage (core/model/quant.h). For such a tensor, name and shape are the logical
  // (dequantized) tensor's, while dtype, data and nbytes are those of `values`, the stored tensor
  // holding its codes (the F8 weight itself, or the MXFP4 `_blocks`); `scale` holds the per-block
  // scales (`_scale_inv`, `_scales`). block: the FP8 block [rows, cols]; {0, 0} for one scale per tensor.
  QuantFormat quant = QuantFormat::None;
  const TensorInfo* values = nullptr;
  const TensorInfo* scale = nullptr;
  int64_t blockRows = 0, blockCols = 0;
  bool quantized() const { return quant != QuantFormat::None; }
  int64_t numel() const;  // throws Format on overflow (a validated tensor never overflows)
};

class MappedFile;

// One .safetensors file, validated and mapped read-only.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& headerJson() const { return header_; }

 private:
  void parse(const std::string& path);

  std::string path_;
  std::unique_ptr<MappedFile> map_;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  std::string header_;
};

// All tensors of a checkpoint folder: model.safetensors, or the shards named by
// model.safetensors.index.json. Pickle checkpoints are refused, never loaded.
class TensorStore {
 public:
  static std::unique_ptr<TensorStore> openFolder(const std::string& dir);
  static std::unique_ptr<TensorStore> openFiles(const std::vector<std::string>& files);

  // has() and get() find stored tensors and, in a quantized checkpoint, the logical tensors that
  // addLogical() registered (a logical FP8 weight shadows its stored namesake); names() lists the
  // stored tensors only, which is what an export copies.
  bool has(const std::string& name) const;
  const TensorInfo& get(const std::string& name) const;  // throws MissingTensor naming the folder
  std::vector<std::string> names() const;
  void addLogical(TensorInfo info);  // core/model/quant.cpp, once the storage was validated
  bool hasLogical() const { return !logical_.empty(); }
  // The stored tensors that hold `name`: {weight, scale} or {blocks, scales} for a quantized logical
  // tensor, else {name}.
  std::vector<std::string> storedNamesOf(const std::string& name) const;
  // The inverse: the logical tensor a stored tensor belongs to (itself when it is not a scale or blocks).
  std::string logicalNameOf(const std::string& storedName) const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  const std::string& location() const { return location_; }

 private:
  static std::unique_ptr<TensorStore> openFolderUnguarded(const std::string& dir);

  std::string location_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorInfo*> index_;
  std::map<std::string, TensorInfo> logical_;  // node-stable: LayerWeights keep pointers
  std::map<std::string, std::string> owner_;   // stored scale / blocks name -> logical name
};

// Drops the mapped pages of a tensor (and of a quantized tensor's scales) from this process's
// resident set once it has been converted.
// The mapping is private and read-only, so nothing is lost: a later access re-reads the pages (from
// the page cache). Without this, every layer ever streamed would stay counted in resident memory.
void releaseMappedPages(const TensorInfo& info);
// Reads a stored tensor's bytes from its file into the page cache, and leaves them unmapped in this
// process (its resident memory does not count them); returns false when `stop` turned true first.
bool readIntoPageCache(const TensorInfo& info, const std::atomic<bool>& stop);

// A tensor to write: bytes already in the target dtype, row-major.
struct TensorBlob {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// Writes one safetensors file (header padded to 8 bytes, tensors sorted by name, like
// safetensors' own serializer). Throws Io with the path on any write failure (disk full included).
void writeSafetensors(const std::string& path, const std::vector<const TensorBlob*>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace moe
