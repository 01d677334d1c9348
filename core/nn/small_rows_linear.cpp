#include "core/nn/small_rows_linear.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/nn/bf16_bits.h"
#include "core/nn/fastest.h"
#include "core/nn/runtime.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MOE_SMALL_ROWS_X86 1
#endif

namespace moe {

namespace {

#ifdef MOE_SMALL_ROWS_X86
#define MOE_AVX2 __attribute__((target("avx2,fma")))

// 8 bf16 values widened to fp32: a bf16 is the upper 16 bits of the fp32 with the same value.
MOE_AVX2 inline __m256 loadBf16(const uint16_t* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

MOE_AVX2 inline float horizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// NO outputs x NR rows straight from the bf16 weights (one or two rows: each weight is used at most
// twice, so widening it once into a buffer would not pay). y[r * ldy + k] = x_r . w_k.
template <int NO, int NR>
MOE_AVX2 void blockFromBf16(const uint16_t* w, int64_t in, const float* x, int64_t ldx, float* y, int64_t ldy) {
  __m256 acc[NO][NR];
  for (int k = 0; k < NO; ++k)
    for (int r = 0; r < NR; ++r) acc[k][r] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= in; i += 8) {
    __m256 wv[NO];
    for (int k = 0; k < NO; ++k) wv[k] = loadBf16(w + k * in + i);
    for (int r = 0; r < NR; ++r) {
      const __m256 xv = _mm256_loadu_ps(x + r * ldx + i);
      for (int k = 0; k < NO; ++k) acc[k][r] = _mm256_fmadd_ps(wv[k], xv, acc[k][r]);
    }
  }
  for (int k = 0; k < NO; ++k)
    for (int r = 0; r < NR; ++r) {
      float s = horizontalSum(acc[k][r]);
      for (int64_t j = i; j < in; ++j) s += bf16ToFloat(w[k * in + j]) * x[r * ldx + j];
      y[r * ldy + k] = s;
    }
}

// NO outputs x NR rows from weights already widened into `wf` [NO, in8] (in8 a multiple of 8, zero
// padded, and x padded the same way), so the inner loop is loads and FMAs only.
template <int NO, int NR>
MOE_AVX2 void blockFromFloat(const float* wf, int64_t in8, const float* x, int64_t ldx, float* y, int64_t ldy) {
  __m256 acc[NO][NR];
  for (int k = 0; k < NO; ++k)
    for (int r = 0; r < NR; ++r) acc[k][r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < in8; i += 8) {
    __m256 xv[NR];
    for (int r = 0; r < NR; ++r) xv[r] = _mm256_loadu_ps(x + r * ldx + i);
    for (int k = 0; k < NO; ++k) {
      const __m256 wv = _mm256_loadu_ps(wf + k * in8 + i);
      for (int r = 0; r < NR; ++r) acc[k][r] = _mm256_fmadd_ps(wv, xv[r], acc[k][r]);
    }
  }
  for (int k = 0; k < NO; ++k)
    for (int r = 0; r < NR; ++r) y[r * ldy + k] = horizontalSum(acc[k][r]);
}

MOE_AVX2 void widen(const uint16_t* w, int64_t rows, int64_t in, int64_t in8, float* out) {
  for (int64_t k = 0; k < rows; ++k) {
    int64_t i = 0;
    for (; i + 8 <= in; i += 8) _mm256_storeu_ps(out + k * in8 + i, loadBf16(w + k * in + i));
    for (; i < in; ++i) out[k * in8 + i] = bf16ToFloat(w[k * in + i]);
    for (; i < in8; ++i) out[k * in8 + i] = 0.f;
  }
}

// Elements [from, to) of a bf16 array as fp32 (from a multiple of 8).
MOE_AVX2 void widenRange(const uint16_t* w, int64_t from, int64_t to, float* out) {
  int64_t i = from;
  for (; i + 8 <= to; i += 8) _mm256_storeu_ps(out + i, loadBf16(w + i));
  for (; i < to; ++i) out[i] = bf16ToFloat(w[i]);
}

// Outputs [o, o + NO) for every row.
template <int NO>
void outputBlock(const uint16_t* w, int64_t in, int64_t in8, const float* x, const float* xPadded, int64_t rows,
                 float* y, int64_t out, std::vector<float>& scratch) {
  if (rows <= 2) {
    if (rows == 2)
      blockFromBf16<NO, 2>(w, in, x, in, y, out);
    else
      blockFromBf16<NO, 1>(w, in, x, in, y, out);
    return;
  }
  scratch.resize(static_cast<size_t>(NO * in8));
  widen(w, NO, in, in8, scratch.data());
  int64_t r = 0;
  for (; r + 2 <= rows; r += 2) blockFromFloat<NO, 2>(scratch.data(), in8, xPadded + r * in8, in8, y + r * out, out);
  if (r < rows) blockFromFloat<NO, 1>(scratch.data(), in8, xPadded + r * in8, in8, y + r * out, out);
}

#endif

// Whether the kernel beats libtorch's bf16 product on this machine, measured once on a decoding-sized
// product (one row and eight rows against a 1024 x 1024 weight).
bool measuredFaster() {
  const at::Tensor w = at::randn({1024, 1024}).to(at::kBFloat16);
  double native = 0, kernel = 0;
  for (int64_t rows : {1, 8}) {
    const at::Tensor x = at::randn({rows, 1024}).to(at::kBFloat16);
    native += fastestSeconds([&] { at::linear(x, w); });
    kernel += fastestSeconds([&] { smallRowsLinear(x, w); });
  }
  return kernel < 0.8 * native;
}

}  // namespace

bool smallRowsLinearApplies(const at::Tensor& x, const at::Tensor& w) {
  if (!cpuHasAvx2Fma()) return false;
  if (x.scalar_type() != at::kBFloat16 || w.scalar_type() != at::kBFloat16) return false;
  if (!x.device().is_cpu() || !w.device().is_cpu() || w.dim() != 2 || !w.is_contiguous()) return false;
  if (x.dim() == 0 || x.size(-1) != w.size(1) || w.size(1) == 0) return false;
  const int64_t rows = x.numel() / x.size(-1);
  if (rows < 1 || rows > kSmallRowsMax) return false;
  static const bool faster = measuredFaster();
  return faster;
}

at::Tensor smallRowsLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (w.dim() != 2 || x.dim() == 0 || x.size(-1) != w.size(1))
    throw Error(ErrorKind::Shape, "smallRowsLinear: input [..., " + std::to_string(x.dim() ? x.size(-1) : 0) +
                                         "] does not match weight [" + std::to_string(w.size(0)) + ", " +
                                         std::to_string(w.dim() > 1 ? w.size(1) : 0) + "]");
  if (w.scalar_type() != at::kBFloat16) throw Error(ErrorKind::Unsupported, "smallRowsLinear: the weight is not bf16");
  const int64_t in = w.size(1), out = w.size(0);
  const at::Tensor xf = x.reshape({-1, in}).to(at::kFloat).contiguous();
  const int64_t rows = xf.size(0);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = out;
#ifdef MOE_SMALL_ROWS_X86
  if (!cpuHasAvx2Fma()) throw Error(ErrorKind::Unsupported, "smallRowsLinear: this CPU has no AVX2/FMA");
  const at::Tensor wc = w.contiguous();
  const int64_t in8 = (in + 7) / 8 * 8;
  at::Tensor xPadded;
  if (rows > 2) {
    xPadded = at::zeros({rows, in8}, at::kFloat);
    xPadded.narrow(1, 0, in).copy_(xf);
  }
  at::Tensor y = at::empty({rows, out}, at::kFloat);
  const auto* wp = reinterpret_cast<const uint16_t*>(wc.data_ptr<at::BFloat16>());
  const float* xp = xf.data_ptr<float>();
  const float* xpp = rows > 2 ? xPadded.data_ptr<float>() : nullptr;
  float* yp = y.data_ptr<float>();
  constexpr int64_t kBlock = 4;
  const int64_t blocks = (out + kBlock - 1) / kBlock;
  // Each task reads at least ~256 KB of weights, so threads are not woken for tiny products.
  const int64_t grain = std::max<int64_t>(1, (128 * 1024) / (kBlock * in));
  at::parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    std::vector<float> scratch;
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t o = blk * kBlock;
      if (o + kBlock <= out) {
        outputBlock<kBlock>(wp + o * in, in, in8, xp, xpp, rows, yp + o, out, scratch);
      } else {
        for (int64_t k = o; k < out; ++k) outputBlock<1>(wp + k * in, in, in8, xp, xpp, rows, yp + k, out, scratch);
      }
    }
  });
  if (b.defined()) y.add_(b.to(at::kFloat));
  return y.to(at::kBFloat16).reshape(shape);
#else
  at::Tensor y = b.defined() ? at::linear(xf, w.to(at::kFloat), b.to(at::kFloat)) : at::linear(xf, w.to(at::kFloat));
  return y.to(at::kBFloat16).reshape(shape);
#endif
}

at::Tensor toFloat(const at::Tensor& t) {
#ifdef MOE_SMALL_ROWS_X86
  if (cpuHasAvx2Fma() && t.scalar_type() == at::kBFloat16 && t.device().is_cpu() && t.is_contiguous()) {
    at::Tensor out = at::empty(t.sizes(), at::TensorOptions().dtype(at::kFloat));
    const auto* src = reinterpret_cast<const uint16_t*>(t.data_ptr<at::BFloat16>());
    float* dst = out.data_ptr<float>();
    const int64_t n = t.numel(), blocks = (n + 7) / 8;
    at::parallel_for(0, blocks, 8192, [&](int64_t b0, int64_t b1) {
      widenRange(src, b0 * 8, std::min(n, b1 * 8), dst);
    });
    return out;
  }
#endif
  return t.to(at::kFloat);
}

}  // namespace moe
