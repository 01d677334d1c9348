#include "core/nn/gram.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/nn/bf16_bits.h"
#include "core/nn/runtime.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MOE_GRAM_X86 1
#endif

namespace moe {

namespace {

// libtorch's product of float64 column chunks, converted into one reused buffer. On the CPU 1024
// columns (E x 1024 values stay in cache for their product: chunks of 16 M values, each a fresh
// 128 MB copy, took 1.7x as long); on a GPU 16 M values, which keeps the kernel launches few.
void addGramByChunks(const at::Tensor& rows, at::Tensor& gram) {
  const int64_t chunk = rows.device().is_cpu() ? 1024 : std::max<int64_t>(1, (int64_t{16} << 20) / std::max<int64_t>(1, rows.size(0)));
  at::Tensor sum = gram.to(rows.device());  // gram itself on the CPU
  at::Tensor buffer = at::empty({rows.size(0), std::min(chunk, rows.size(1))},
                                at::TensorOptions().dtype(at::kDouble).device(rows.device()));
  for (int64_t c = 0; c < rows.size(1); c += chunk) {
    const int64_t n = std::min(chunk, rows.size(1) - c);
    at::Tensor part = buffer.narrow(1, 0, n);
    part.copy_(rows.narrow(1, c, n));
    sum.addmm_(part, part.t());
  }
  if (!sum.is_same(gram)) gram.copy_(sum);
}

#ifdef MOE_GRAM_X86
#define MOE_AVX2 __attribute__((target("avx2,fma")))

constexpr int64_t kPanel = 8;  // rows per panel: one micro-tile's width (two AVX2 registers of doubles)

inline double toDouble(double v) { return v; }
inline double toDouble(float v) { return v; }
inline double toDouble(uint16_t bf16) { return bf16ToFloat(bf16); }

// Four consecutive values of a row as doubles.
MOE_AVX2 inline __m256d load4(const double* p) { return _mm256_loadu_pd(p); }
MOE_AVX2 inline __m256d load4(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
MOE_AVX2 inline __m256d load4(const uint16_t* p) {
  const __m128i wide = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm256_cvtps_pd(_mm_castsi128_ps(_mm_slli_epi32(wide, 16)));
}

// Columns [c0, c0 + n) of every row into panels: panel p holds rows 8p..8p+7, column by column
// (8 doubles per column, k-major), so that the micro-tile reads both operands contiguously. Rows
// past S stay zero. Four rows by four columns at a time, transposed in registers (the conversion
// was a third of the Gram's time done value by value); the edges value by value.
template <typename T>
MOE_AVX2 void toPanels(const T* rows, int64_t S, int64_t N, int64_t c0, int64_t n, int64_t kc, double* panels) {
  int64_t i = 0;
  for (; i + 4 <= S; i += 4) {  // 4 rows in the same panel: panels are 8 rows, i a multiple of 4
    const T* src = rows + i * N + c0;
    double* dst = panels + (i / kPanel) * kc * kPanel + i % kPanel;
    int64_t k = 0;
    for (; k + 4 <= n; k += 4) {
      const __m256d r0 = load4(src + k), r1 = load4(src + N + k), r2 = load4(src + 2 * N + k),
                    r3 = load4(src + 3 * N + k);
      const __m256d lo01 = _mm256_unpacklo_pd(r0, r1), hi01 = _mm256_unpackhi_pd(r0, r1);
      const __m256d lo23 = _mm256_unpacklo_pd(r2, r3), hi23 = _mm256_unpackhi_pd(r2, r3);
      _mm256_storeu_pd(dst + k * kPanel, _mm256_permute2f128_pd(lo01, lo23, 0x20));
      _mm256_storeu_pd(dst + (k + 1) * kPanel, _mm256_permute2f128_pd(hi01, hi23, 0x20));
      _mm256_storeu_pd(dst + (k + 2) * kPanel, _mm256_permute2f128_pd(lo01, lo23, 0x31));
      _mm256_storeu_pd(dst + (k + 3) * kPanel, _mm256_permute2f128_pd(hi01, hi23, 0x31));
    }
    for (; k < n; ++k)
      for (int64_t r = 0; r < 4; ++r) dst[k * kPanel + r] = toDouble(src[r * N + k]);
  }
  for (; i < S; ++i) {
    const T* src = rows + i * N + c0;
    double* dst = panels + (i / kPanel) * kc * kPanel + i % kPanel;
    for (int64_t k = 0; k < n; ++k) dst[k * kPanel] = toDouble(src[k]);
  }
}

// g[4 x 8] += (rows aoff..aoff+3 of panel a) x (the 8 rows of panel b)^T over n columns. Eleven
// registers: eight accumulators, two loads of b, one broadcast of a.
MOE_AVX2 void microTile(const double* a, const double* b, int64_t n, double* g, int64_t ldg) {
  __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int64_t k = 0; k < n; ++k, a += kPanel, b += kPanel) {
    const __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
    __m256d x = _mm256_broadcast_sd(a);
    c00 = _mm256_fmadd_pd(x, b0, c00);
    c01 = _mm256_fmadd_pd(x, b1, c01);
    x = _mm256_broadcast_sd(a + 1);
    c10 = _mm256_fmadd_pd(x, b0, c10);
    c11 = _mm256_fmadd_pd(x, b1, c11);
    x = _mm256_broadcast_sd(a + 2);
    c20 = _mm256_fmadd_pd(x, b0, c20);
    c21 = _mm256_fmadd_pd(x, b1, c21);
    x = _mm256_broadcast_sd(a + 3);
    c30 = _mm256_fmadd_pd(x, b0, c30);
    c31 = _mm256_fmadd_pd(x, b1, c31);
  }
  const __m256d sums[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  for (int r = 0; r < 4; ++r)
    for (int h = 0; h < 2; ++h) {
      double* out = g + r * ldg + 4 * h;
      _mm256_storeu_pd(out, _mm256_add_pd(_mm256_loadu_pd(out), sums[r][h]));
    }
}

// The upper triangle (by 8 x 8 blocks) of the segment's Gram, [Sp, Sp], accumulated over its columns.
template <typename T>
MOE_AVX2 void segmentGram(const T* rows, int64_t S, int64_t N, int64_t begin, int64_t end, int64_t kc,
                          double* g) {
  const int64_t panels = (S + kPanel - 1) / kPanel, Sp = panels * kPanel;
  std::vector<double> buffer(static_cast<size_t>(panels * kc * kPanel), 0.0);
  for (int64_t c0 = begin; c0 < end; c0 += kc) {
    const int64_t n = std::min(kc, end - c0);
    toPanels(rows, S, N, c0, n, kc, buffer.data());
    for (int64_t pa = 0; pa < panels; ++pa)
      for (int64_t half = 0; half < 2; ++half)
        for (int64_t pb = pa; pb < panels; ++pb)
          microTile(buffer.data() + pa * kc * kPanel + 4 * half, buffer.data() + pb * kc * kPanel, n,
                    g + (pa * kPanel + 4 * half) * Sp + pb * kPanel, Sp);
  }
}

template <typename T>
void addGramKernel(const T* rows, int64_t S, int64_t N, at::Tensor& gram) {
  const int64_t panels = (S + kPanel - 1) / kPanel, Sp = panels * kPanel;
  // Columns per conversion: the panels of all rows (Sp x kc doubles: 256 KB up to 512 rows) stay in a
  // core's L2 cache.
  const int64_t kc = std::clamp<int64_t>((int64_t{32} << 10) / Sp / 16 * 16, 64, 256);
  // A fixed number of segments, summed in order below: the same result on any number of threads
  // (each segment's partial Gram is Sp^2 doubles: 2 MB at 512 rows).
  constexpr int64_t kSegments = 16;
  const int64_t segments = std::clamp<int64_t>((N + kc - 1) / kc, 1, kSegments);
  const int64_t perSegment = (N + segments - 1) / segments;
  std::vector<std::vector<double>> partial(static_cast<size_t>(segments));
  at::parallel_for(0, segments, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      std::vector<double>& g = partial[static_cast<size_t>(s)];
      g.assign(static_cast<size_t>(Sp * Sp), 0.0);
      segmentGram(rows, S, N, s * perSegment, std::min(N, (s + 1) * perSegment), kc, g.data());
    }
  });
  // Both triangles receive the same additions in the same order: added to what the Gram held.
  double* out = gram.data_ptr<double>();
  for (const std::vector<double>& g : partial)
    for (int64_t i = 0; i < S; ++i)
      for (int64_t j = i; j < S; ++j) {
        const double v = g[static_cast<size_t>(i * Sp + j)];
        out[i * S + j] += v;
        if (j != i) out[j * S + i] += v;
      }
}
#endif

}  // namespace

void addGram(const at::Tensor& rows, at::Tensor& gram) {
  if (rows.dim() != 2 || gram.dim() != 2 || gram.size(0) != rows.size(0) || gram.size(1) != rows.size(0) ||
      gram.scalar_type() != at::kDouble || !gram.device().is_cpu() || !gram.is_contiguous())
    throw Error(ErrorKind::InvalidArgument, "addGram: expected rows [S, N] and a contiguous float64 CPU gram [S, S], got rows " +
                                                c10::str(rows.sizes()) + " and gram " + c10::str(gram.sizes()) + " (" +
                                                std::string(c10::toString(gram.scalar_type())) + ")");
  if (rows.size(0) == 0 || rows.size(1) == 0) return;
#ifdef MOE_GRAM_X86
  const at::ScalarType t = rows.scalar_type();
  if (rows.device().is_cpu() && cpuHasAvx2Fma() && (t == at::kBFloat16 || t == at::kFloat || t == at::kDouble)) {
    const at::Tensor c = rows.contiguous();
    const int64_t S = c.size(0), N = c.size(1);
    if (t == at::kBFloat16) addGramKernel(reinterpret_cast<const uint16_t*>(c.data_ptr<at::BFloat16>()), S, N, gram);
    else if (t == at::kFloat) addGramKernel(c.data_ptr<float>(), S, N, gram);
    else addGramKernel(c.data_ptr<double>(), S, N, gram);
    return;
  }
#endif
  addGramByChunks(rows, gram);
}

}  // namespace moe
