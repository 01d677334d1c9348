#include "core/model/quant_codec.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/model/quant.h"

namespace moe {
namespace {

// Value of a minifloat code with `e` exponent and `m` mantissa bits (sign bit above them), IEEE-style
// subnormals. Special codes are patched by the callers.
float minifloat(int code, int e, int m, int bias) {
  const int sign = (code >> (e + m)) & 1;
  const int exp = (code >> m) & ((1 << e) - 1);
  const int man = code & ((1 << m) - 1);
  const double v = exp == 0 ? std::ldexp(static_cast<double>(man), 1 - bias - m)
                            : std::ldexp(static_cast<double>((1 << m) + man), exp - bias - m);
  return static_cast<float>(sign ? -v : v);
}

at::Tensor tableOf(const std::vector<float>& values) {
  return at::tensor(at::ArrayRef<float>(values), at::TensorOptions().dtype(at::kFloat));
}

// Number of non-negative finite codes (0 .. n-1 ascending in value): the encoder's search range.
int64_t positiveCodes(DType fp8) { return fp8 == DType::F8_E4M3 ? 0x7f : 0x7c; }

void checkFp8(DType fp8) {
  if (fp8 != DType::F8_E4M3 && fp8 != DType::F8_E5M2)
    throw Error(ErrorKind::InvalidArgument, std::string("FP8 codec: ") + dtypeName(fp8) + " is not an FP8 dtype");
}

// Nearest code of |values| among the ascending non-negative `table` entries, ties to the even code,
// plus `signCode` for values whose sign bit is set.
at::Tensor encodeWith(const at::Tensor& values, const at::Tensor& positives, double maxValue, int64_t signCode) {
  const at::Tensor x = values.to(at::kFloat);
  const at::Tensor a = x.abs().clamp_max(maxValue).contiguous();
  const at::Tensor table = positives.to(x.device());
  const int64_t n = table.size(0);
  const at::Tensor mids = ((table.narrow(0, 0, n - 1).to(at::kDouble) + table.narrow(0, 1, n - 1).to(at::kDouble)) / 2)
                              .to(at::kFloat);  // exact: one bit more than the codes have
  at::Tensor idx = at::searchsorted(mids, a);  // number of midpoints below |x|
  const at::Tensor tie = mids.index_select(0, idx.clamp_max(n - 2).reshape(-1)).view_as(a).eq(a);
  idx = at::where(tie.logical_and(idx.remainder(2).eq(1)), idx + 1, idx);
  idx = at::where(at::signbit(x), idx + signCode, idx);
  return idx.to(at::kByte);
}

at::Tensor floatView(const TensorInfo& t) {
  at::ScalarType type = at::kFloat;
  switch (t.dtype) {
    case DType::BF16: type = at::kBFloat16; break;
    case DType::F16: type = at::kHalf; break;
    case DType::F32: type = at::kFloat; break;
    default:
      throw Error(ErrorKind::Format, t.file + ": tensor '" + t.name + "' is " + dtypeName(t.dtype) + ", not a float scale");
  }
  return at::from_blob(const_cast<uint8_t*>(t.data), t.shape, at::TensorOptions().dtype(type));
}

at::Tensor byteView(const TensorInfo& t) {
  return at::from_blob(const_cast<uint8_t*>(t.data), t.shape, at::TensorOptions().dtype(at::kByte));
}

}  // namespace

at::Tensor fp8Table(DType fp8) {
  checkFp8(fp8);
  std::vector<float> v(256);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (int c = 0; c < 256; ++c) {
    if (fp8 == DType::F8_E4M3) {
      v[c] = (c & 0x7f) == 0x7f ? nan : minifloat(c, 4, 3, 7);  // E4M3FN: only S.1111.111 is special
    } else {
      const int low = c & 0x7f;
      v[c] = low == 0x7c ? (c & 0x80 ? -inf : inf) : low > 0x7c ? nan : minifloat(c, 5, 2, 15);
    }
  }
  return tableOf(v);
}

at::Tensor e2m1Table() {
  std::vector<float> v(16);
  for (int c = 0; c < 16; ++c) v[c] = minifloat(c, 2, 1, 1);
  return tableOf(v);
}

at::Tensor e8m0Table() {
  std::vector<float> v(256);
  for (int c = 0; c < 256; ++c) v[c] = std::ldexp(1.0f, c - 127);  // 255 -> inf, as transformers' ldexp gives
  return tableOf(v);
}

double fp8Max(DType fp8) {
  checkFp8(fp8);
  return fp8 == DType::F8_E4M3 ? 448.0 : 57344.0;
}

at::Tensor decodeFp8(const at::Tensor& codes, DType fp8) {
  const at::Tensor table = fp8Table(fp8).to(codes.device());
  return table.index_select(0, codes.reshape(-1).to(at::kLong)).view(codes.sizes());
}

at::Tensor encodeFp8(const at::Tensor& values, DType fp8) {
  return encodeWith(values, fp8Table(fp8).narrow(0, 0, positiveCodes(fp8)), fp8Max(fp8), 0x80);
}

at::Tensor encodeE2M1(const at::Tensor& values) { return encodeWith(values, e2m1Table().narrow(0, 0, 8), 6.0, 8); }

at::Tensor dequantizeFp8(const at::Tensor& codes, DType fp8, const at::Tensor& scaleInv, int64_t br, int64_t bc) {
  const at::Tensor v = decodeFp8(codes, fp8);
  const at::Tensor s = scaleInv.to(v.device(), at::kFloat);
  if (br <= 0 || bc <= 0) return v * s.reshape({});
  const auto shape = v.sizes().vec();
  const int64_t R = shape[shape.size() - 2], C = shape.back();
  const int64_t gr = (R + br - 1) / br, gc = (C + bc - 1) / bc;
  std::vector<int64_t> blocked(shape.begin(), shape.end() - 2), scaleView(shape.begin(), shape.end() - 2);
  for (int64_t d : {gr, br, gc, bc}) blocked.push_back(d);
  for (int64_t d : {gr, int64_t{1}, gc, int64_t{1}}) scaleView.push_back(d);
  if (R % br == 0 && C % bc == 0) return (v.view(blocked) * s.view(scaleView)).view(shape);
  // A trailing partial block: pad to whole blocks, scale, cut the padding off again.
  const at::Tensor padded = at::constant_pad_nd(v, {0, gc * bc - C, 0, gr * br - R});
  std::vector<int64_t> paddedShape(shape.begin(), shape.end() - 2);
  paddedShape.push_back(gr * br);
  paddedShape.push_back(gc * bc);
  return (padded.view(blocked) * s.view(scaleView)).view(paddedShape).narrow(-2, 0, R).narrow(-1, 0, C).contiguous();
}

at::Tensor dequantizeMxfp4(const at::Tensor& blocks, const at::Tensor& scales) {
  const at::Tensor b = blocks.to(at::kLong);
  const at::Tensor table = e2m1Table().to(b.device());
  const at::Tensor lo = table.index_select(0, b.bitwise_and(15).reshape(-1));
  const at::Tensor hi = table.index_select(0, b.bitwise_right_shift(4).reshape(-1));
  const int64_t E = blocks.size(0), R = blocks.size(1), G = blocks.size(2);
  // Low nibble first: value 2k of a group is byte k's low nibble, value 2k+1 its high nibble.
  const at::Tensor values = at::stack({lo, hi}, -1).view({E, R, G, kMxfp4Block});
  const at::Tensor scale = e8m0Table().to(b.device()).index_select(0, scales.reshape(-1).to(at::kLong)).view({E, R, G, 1});
  return (values * scale).view({E, R, G * kMxfp4Block}).transpose(1, 2).contiguous();
}

at::Tensor dequantize(const TensorInfo& info, const at::Device& device, const StagedBytes* staged) {
  if (!info.values || !info.scale)
    throw Error(ErrorKind::InvalidArgument, "dequantize: tensor '" + info.name + "' is not quantized");
  // The stored tensor on the device: its staged copy, or its mapped bytes moved there.
  auto onDevice = [&](const TensorInfo& stored, const at::Tensor& mapped) {
    if (staged)
      if (at::Tensor copy = staged->view(stored, mapped.scalar_type()); copy.defined()) return copy;
    return mapped.to(device);
  };
  switch (info.quant) {
    case QuantFormat::Fp8:
      return dequantizeFp8(onDevice(*info.values, byteView(*info.values)), info.values->dtype,
                           onDevice(*info.scale, floatView(*info.scale)), info.blockRows, info.blockCols);
    case QuantFormat::Mxfp4:
      return dequantizeMxfp4(onDevice(*info.values, byteView(*info.values)), onDevice(*info.scale, byteView(*info.scale)));
    case QuantFormat::None: break;
  }
  throw Error(ErrorKind::InvalidArgument, "dequantize: tensor '" + info.name + "' is not quantized");
}

Fp8Tensor quantizeFp8(const at::Tensor& weight, DType fp8, int64_t br, int64_t bc) {
  const double maxValue = fp8Max(fp8);
  const at::Tensor w = weight.to(at::kFloat);
  // max / amax as transformers computes it: Python's `448 / tensor` is reciprocal(tensor) * 448.
  auto scaleOf = [&](const at::Tensor& amax) {
    const at::Tensor safe = at::where(amax.gt(0), amax, at::ones_like(amax));
    return at::where(amax.gt(0), safe.reciprocal() * maxValue, at::ones_like(amax));
  };
  Fp8Tensor out;
  if (br <= 0 || bc <= 0) {
    const at::Tensor scale = scaleOf(w.abs().max());
    out.codes = encodeFp8((w * scale).clamp(-maxValue, maxValue), fp8);
    out.scaleInv = scale.reciprocal().to(at::kFloat);
    return out;
  }
  if (w.dim() < 2) throw Error(ErrorKind::InvalidArgument, "FP8 block quantization needs a tensor of rank 2 or more");
  const auto shape = w.sizes().vec();
  const int64_t R = shape[shape.size() - 2], C = shape.back();
  const int64_t gr = (R + br - 1) / br, gc = (C + bc - 1) / bc;
  std::vector<int64_t> blocked(shape.begin(), shape.end() - 2), scaleView(shape.begin(), shape.end() - 2),
      paddedShape(shape.begin(), shape.end() - 2);
  for (int64_t d : {gr, br, gc, bc}) blocked.push_back(d);
  for (int64_t d : {gr, int64_t{1}, gc, int64_t{1}}) scaleView.push_back(d);
  paddedShape.push_back(gr * br);
  paddedShape.push_back(gc * bc);
  // Zero padding leaves every block's amax as it is.
  const at::Tensor padded = at::constant_pad_nd(w, {0, gc * bc - C, 0, gr * br - R}).view(blocked);
  const at::Tensor scale = scaleOf(padded.abs().amax({-3, -1}));  // [..., gr, gc]
  const at::Tensor scaled =
      (padded * scale.view(scaleView)).view(paddedShape).narrow(-2, 0, R).narrow(-1, 0, C).clamp(-maxValue, maxValue);
  out.codes = encodeFp8(scaled, fp8);
  out.scaleInv = scale.reciprocal().to(at::kFloat);
  return out;
}

Mxfp4Tensor quantizeMxfp4(const at::Tensor& logical) {
  const std::vector<int64_t> blocksShape = mxfp4BlocksShape(logical.sizes().vec());
  const int64_t E = blocksShape[0], R = blocksShape[1], G = blocksShape[2];
  const at::Tensor w = logical.to(at::kFloat).transpose(1, 2).contiguous().view({E, R, G, kMxfp4Block});
  const at::Tensor amax = w.abs().amax({-1});
  // floor(log2(amax)) exactly: frexp gives amax = m * 2^e with m in [0.5, 1).
  const at::Tensor e = std::get<1>(at::frexp(amax)).to(at::kLong) - 1;
  at::Tensor shared = (e - 2).clamp(-127, 127);
  shared = at::where(amax.gt(0), shared, at::full_like(shared, -127));
  Mxfp4Tensor out;
  out.scales = (shared + 127).to(at::kByte);
  const at::Tensor scale = e8m0Table().to(w.device()).index_select(0, (shared + 127).reshape(-1)).view({E, R, G, 1});
  const at::Tensor codes = encodeE2M1(w / scale).to(at::kLong);  // [E, R, G, 32]
  using at::indexing::Slice;
  const at::Tensor lo = codes.index({Slice(), Slice(), Slice(), Slice(0, kMxfp4Block, 2)});
  const at::Tensor hi = codes.index({Slice(), Slice(), Slice(), Slice(1, kMxfp4Block, 2)});
  out.blocks = lo.bitwise_or(hi.bitwise_left_shift(4)).to(at::kByte).contiguous();
  return out;
}

}  // namespace moe
