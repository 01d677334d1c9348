#include "core/model/quant.h"

#include <set>

#include "core/error.h"

namespace moe {
namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string stripSuffix(const std::string& s, const std::string& suffix) { return s.substr(0, s.size() - suffix.size()); }

bool isFp8(DType d) { return d == DType::F8_E4M3 || d == DType::F8_E5M2; }

const char* kScaleInv = "_scale_inv";

// The weight an FP8 scale belongs to: the inverse of fp8ScaleName.
std::string fp8WeightOf(const std::string& scaleName) { return stripSuffix(scaleName, kScaleInv); }

std::string describe(const TensorInfo& t) {
  return "'" + t.name + "' (" + dtypeName(t.dtype) + " " + shapeString(t.shape) + ")";
}

std::string blockText(const QuantConfig& q) {
  return q.blockSize.empty() ? std::string("one scale per tensor (no weight_block_size)")
                             : "weight_block_size [" + std::to_string(q.blockSize[0]) + ", " +
                                   std::to_string(q.blockSize[1]) + "]";
}

void registerFp8(TensorStore& store, const TensorInfo& w, const QuantConfig& q, const std::string& src,
                 std::set<std::string>& consumed) {
  const std::string where = store.location() + ": FP8 weight " + describe(w);
  if (q.method != QuantMethod::Fp8)
    throw Error(ErrorKind::Config, where + " needs quantization_config.quant_method \"fp8\" in " + src + ", which has " +
                                       (q.quantized() ? "\"" + q.methodName + "\"" : std::string("no quantization_config")));
  if (q.keepsUnquantized(w.name))
    throw Error(ErrorKind::Format, where + " lies in a module that " + src +
                                       " lists in quantization_config.modules_to_not_convert, so it must be stored "
                                       "unquantized");
  const std::string scaleName = fp8ScaleName(w.name);
  if (!store.has(scaleName))
    throw Error(ErrorKind::MissingTensor, where + " has no scale: '" + scaleName + "' is missing");
  const TensorInfo& s = store.get(scaleName);
  if (!isFloatDType(s.dtype))
    throw Error(ErrorKind::Format, store.location() + ": FP8 scale " + describe(s) + " should be F32, BF16 or F16");
  const int64_t br = q.blockSize.empty() ? 0 : q.blockSize[0], bc = q.blockSize.empty() ? 0 : q.blockSize[1];
  if (br > 0 && w.shape.size() < 2)
    throw Error(ErrorKind::Shape, where + " has fewer than 2 dimensions; a block-quantized weight needs [rows, cols]");
  const std::vector<int64_t> expected = fp8ScaleShape(w.shape, br, bc);
  const bool ok = br > 0 ? s.shape == expected : s.numel() == 1;
  if (!ok)
    throw Error(ErrorKind::Shape, store.location() + ": FP8 scale '" + scaleName + "' has shape " +
                                      shapeString(s.shape) + ", expected " +
                                      (br > 0 ? shapeString(expected) : std::string("a single value ([] or [1])")) +
                                      " for weight " + describe(w) + " with " + blockText(q));
  TensorInfo logical = w;
  logical.quant = QuantFormat::Fp8;
  logical.values = &w;
  logical.scale = &s;
  logical.blockRows = br;
  logical.blockCols = bc;
  store.addLogical(std::move(logical));
  consumed.insert(w.name);
  consumed.insert(scaleName);
}

void registerMxfp4(TensorStore& store, const TensorInfo& b, const QuantConfig& q, const std::string& src,
                   std::set<std::string>& consumed) {
  const std::string name = stripSuffix(b.name, "_blocks");
  const std::string where = store.location() + ": MXFP4 blocks " + describe(b);
  if (q.method != QuantMethod::Mxfp4)
    throw Error(ErrorKind::Config, where + " need quantization_config.quant_method \"mxfp4\" in " + src + ", which has " +
                                       (q.quantized() ? "\"" + q.methodName + "\"" : std::string("no quantization_config")));
  const std::string scalesName = mxfp4ScalesName(name);
  if (!store.has(scalesName))
    throw Error(ErrorKind::MissingTensor, where + " have no scales: '" + scalesName + "' is missing");
  const TensorInfo& s = store.get(scalesName);
  if (b.shape.size() != 4 || b.shape[3] != kMxfp4Block / 2)
    throw Error(ErrorKind::Shape, where + " should be [experts, rows, groups, 16] (32 E2M1 values per group, two per byte)");
  if (s.dtype != DType::U8)
    throw Error(ErrorKind::Format, store.location() + ": MXFP4 scales " + describe(s) + " should be U8 (E8M0 exponents)");
  const std::vector<int64_t> expected(b.shape.begin(), b.shape.end() - 1);
  if (s.shape != expected)
    throw Error(ErrorKind::Shape, store.location() + ": MXFP4 blocks " + describe(b) + " and scales " + describe(s) +
                                      " disagree: the scales should be " + shapeString(expected) +
                                      ", one per 32-value group");
  if (store.has(name))
    throw Error(ErrorKind::Format, store.location() + ": tensor '" + name + "' is stored both unquantized and as MXFP4 " +
                                       "blocks " + describe(b));
  TensorInfo logical = b;
  logical.name = name;
  logical.shape = mxfp4LogicalShape(b.shape);
  logical.quant = QuantFormat::Mxfp4;
  logical.values = &b;
  logical.scale = &s;
  store.addLogical(std::move(logical));
  consumed.insert(b.name);
  consumed.insert(scalesName);
}

}  // namespace

std::string fp8ScaleName(const std::string& weightName) { return weightName + kScaleInv; }

std::string mxfp4BlocksName(const std::string& name) { return name + "_blocks"; }
std::string mxfp4ScalesName(const std::string& name) { return name + "_scales"; }

std::vector<int64_t> fp8ScaleShape(const std::vector<int64_t>& w, int64_t br, int64_t bc) {
  if (br <= 0 || bc <= 0 || w.size() < 2) return {};
  std::vector<int64_t> s(w.begin(), w.end() - 2);
  s.push_back((w[w.size() - 2] + br - 1) / br);
  s.push_back((w.back() + bc - 1) / bc);
  return s;
}

std::vector<int64_t> mxfp4BlocksShape(const std::vector<int64_t>& l) {
  if (l.size() != 3 || l[1] % kMxfp4Block != 0)
    throw Error(ErrorKind::Shape, "MXFP4 needs a [experts, inputs, outputs] tensor with inputs divisible by 32, got " +
                                      shapeString(l));
  return {l[0], l[2], l[1] / kMxfp4Block, kMxfp4Block / 2};
}

std::vector<int64_t> mxfp4ScalesShape(const std::vector<int64_t>& l) {
  std::vector<int64_t> b = mxfp4BlocksShape(l);
  b.pop_back();
  return b;
}

std::vector<int64_t> mxfp4LogicalShape(const std::vector<int64_t>& b) { return {b[0], b[2] * kMxfp4Block, b[1]}; }

void applyQuantization(TensorStore& store, const QuantConfig& q, const std::string& src) {
  std::set<std::string> consumed;
  const std::vector<std::string> names = store.names();
  for (const auto& n : names) {
    const TensorInfo& t = store.get(n);
    if (isFp8(t.dtype)) registerFp8(store, t, q, src, consumed);
    else if (t.dtype == DType::U8 && endsWith(n, "_blocks")) registerMxfp4(store, t, q, src, consumed);
  }
  // Whatever quantized storage is left belongs to nothing MoEScope can read.
  for (const auto& n : names) {
    if (consumed.count(n)) continue;
    const TensorInfo& t = store.get(n);
    if (endsWith(n, kScaleInv)) {
      const std::string w = fp8WeightOf(n);
      throw Error(ErrorKind::Format, store.location() + ": FP8 scale " + describe(t) + " belongs to no FP8 weight: '" +
                                         w + "' is " +
                                         (store.has(w) ? std::string("stored as ") + dtypeName(store.get(w).dtype)
                                                       : std::string("missing")));
    }
    if (t.dtype == DType::U8) {
      if (endsWith(n, "_scales"))
        throw Error(ErrorKind::MissingTensor, store.location() + ": MXFP4 scales " + describe(t) + " have no blocks: '" +
                                                  mxfp4BlocksName(stripSuffix(n, "_scales")) + "' is missing");
      throw Error(ErrorKind::Unsupported, store.location() + ": tensor " + describe(t) +
                                              " is U8, which MoEScope reads only as MXFP4 '_blocks' and '_scales'");
    }
  }
}

}  // namespace moe
