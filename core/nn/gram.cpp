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

// Splits the columns [0, N) into a fixed number of segments, has `segment` accumulate each one's
// upper triangle into a zeroed [Sp, Sp] partial Gram (in parallel), then adds the partials to gram
// in order: the same result on any number of threads (each partial is Sp^2 doubles: 2 MB at 512
// rows). kc: the columns a segment works through at a time (segments are at least that wide).
template <typename Segment>
void addGramBySegments(int64_t S, int64_t Sp, int64_t N, int64_t kc, const Segment& segment, at::Tensor& gram) {
  constexpr int64_t kSegments = 16;
  const int64_t segments = std::clamp<int64_t>((N + kc - 1) / kc, 1, kSegments);
  const int64_t perSegment = (N + segments - 1) / segments;
  std::vector<std::vector<double>> partial(static_cast<size_t>(segments));
  at::parallel_for(0, segments, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      std::vector<double>& g = partial[static_cast<size_t>(s)];
      g.assign(static_cast<size_t>(Sp * Sp), 0.0);
      segment(s * perSegment, std::min(N, (s + 1) * perSegment), g.data());
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

template <typename T>
void addGramKernel(const T* rows, int64_t S, int64_t N, at::Tensor& gram) {
  const int64_t panels = (S + kPanel - 1) / kPanel, Sp = panels * kPanel;
  // Columns per conversion: the panels of all rows (Sp x kc doubles: 256 KB up to 512 rows) stay in a
  // core's L2 cache.
  const int64_t kc = std::clamp<int64_t>((int64_t{32} << 10) / Sp / 16 * 16, 64, 256);
  addGramBySegments(
      S, Sp, N, kc, [&](int64_t begin, int64_t end, double* g) { segmentGram(rows, S, N, begin, end, kc, g); }, gram);
}

// --- bf16 rows with float32 block sums (AVX512-BF16) ---------------------------------------------
// vdpbf16ps multiplies pairs of bf16 values exactly (8-bit significands: 16-bit products) and adds
// them to float32 lanes, rounding after each product. Each lane sums 60 products at most; the 16
// lanes of an entry are then added in a tree of 4 float32 additions, and that sum goes into float64.
// Every value reaches its float64 sum through at most 64 float32 roundings, and since
// sum |a_k b_k| <= |a| |b|, every entry is off by at most about 64 * 2^-24 |a_i| |a_j| (3.8e-6 of
// it), typically by far less. (vdpbf16ps also reads and writes subnormals as zero: products below
// 1e-38, far below any weight's.)
#define MOE_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512bf16")))
// GCC 12's AVX-512 headers initialise their "undefined" registers from themselves, which its
// uninitialised-use warnings report at every inlined conversion and reduction.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

constexpr int64_t kBf16Tile = 4;         // rows per side of a tile: 16 accumulators
constexpr int64_t kBf16Step = 32;        // bf16 values per register
constexpr int64_t kBf16FlushSteps = 30;  // steps between flushes: 60 products per lane, + 4 tree levels = 64
constexpr int64_t kBf16FlushColumns = kBf16FlushSteps * kBf16Step;

// Two accumulators' lanes, pairwise: x[0]+x[2], y[0]+y[2], x[1]+x[3], y[1]+y[3] in each 128-bit lane.
MOE_AVX512BF16 inline __attribute__((always_inline)) __m512 pairSums(__m512 x, __m512 y) {
  return _mm512_add_ps(_mm512_unpacklo_ps(x, y), _mm512_unpackhi_ps(x, y));
}
MOE_AVX512BF16 inline __attribute__((always_inline)) __m512 quadSums(__m512 x, __m512 y) {
  const __m512d xd = _mm512_castps_pd(x), yd = _mm512_castps_pd(y);
  return _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(xd, yd)), _mm512_castpd_ps(_mm512_unpackhi_pd(xd, yd)));
}
MOE_AVX512BF16 inline __attribute__((always_inline)) __m512 laneSums(__m512 x, __m512 y) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x88), _mm512_shuffle_f32x4(x, y, 0xDD));
}

// The tile's 16 accumulators summed across their lanes (a transposing tree: element t is the sum of
// acc[t]'s lanes), added in float64 to wide[0] (entries 0-7) and wide[1] (8-15); acc restarts at zero.
MOE_AVX512BF16 inline __attribute__((always_inline)) void bf16Flush(__m512* acc, __m512d* wide) {
  __m512 p[8], q[4];
#pragma GCC unroll 8
  for (int t = 0; t < 8; ++t) p[t] = pairSums(acc[2 * t], acc[2 * t + 1]);
#pragma GCC unroll 4
  for (int t = 0; t < 4; ++t) q[t] = quadSums(p[2 * t], p[2 * t + 1]);
  // q[t]'s 128-bit lane L holds lane L's sums of acc[4t..4t+3]; add the four lanes.
  const __m512 sums = laneSums(laneSums(q[0], q[1]), laneSums(q[2], q[3]));
  wide[0] = _mm512_add_pd(wide[0], _mm512_cvtps_pd(_mm512_castps512_ps256(sums)));
  wide[1] = _mm512_add_pd(wide[1], _mm512_cvtps_pd(_mm256_castsi256_ps(
                                       _mm512_extracti64x4_epi64(_mm512_castps_si512(sums), 1))));
#pragma GCC unroll 16
  for (int t = 0; t < 16; ++t) acc[t] = _mm512_setzero_ps();
}

// 32 columns from c (those in mask m; the others read as zero) of rows a[0..3] and b[0..3].
MOE_AVX512BF16 inline __attribute__((always_inline)) void bf16Step(const uint16_t* const* a, const uint16_t* const* b,
                                                                   int64_t c, __mmask32 m, __m512* acc) {
  __m512bh x[4], y[4];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) {
    x[r] = (__m512bh)_mm512_maskz_loadu_epi16(m, a[r] + c);
    y[r] = (__m512bh)_mm512_maskz_loadu_epi16(m, b[r] + c);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) acc[i * 4 + j] = _mm512_dpbf16_ps(acc[i * 4 + j], x[i], y[j]);
}

// The 16 dot products of rows a[0..3] with rows b[0..3] over columns [c0, c1), added to g (row
// stride ldg).
MOE_AVX512BF16 void bf16Tile(const uint16_t* const* a, const uint16_t* const* b, int64_t c0, int64_t c1, double* g,
                             int64_t ldg) {
  __m512 acc[16];
  for (int t = 0; t < 16; ++t) acc[t] = _mm512_setzero_ps();
  __m512d wide[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
  int64_t c = c0, steps = 0;
  for (; c + kBf16Step <= c1; c += kBf16Step) {
    bf16Step(a, b, c, static_cast<__mmask32>(~0u), acc);
    if (++steps == kBf16FlushSteps) {
      bf16Flush(acc, wide);
      steps = 0;
    }
  }
  if (c < c1) {  // the last, partial step
    bf16Step(a, b, c, static_cast<__mmask32>((uint64_t{1} << (c1 - c)) - 1), acc);
    ++steps;
  }
  if (steps > 0) bf16Flush(acc, wide);
  alignas(64) double sums[16];
  _mm512_store_pd(sums, wide[0]);
  _mm512_store_pd(sums + 8, wide[1]);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) g[i * ldg + j] += sums[i * 4 + j];
}

// The upper triangle (by 4 x 4 tiles) of the Gram of columns [begin, end), [Sp, Sp] with Sp the row
// count rounded up to tiles; tile rows past S repeat row S - 1 (their sums are never read).
MOE_AVX512BF16 void segmentGramBf16(const uint16_t* rows, int64_t S, int64_t N, int64_t begin, int64_t end,
                                    int64_t kc, double* g) {
  const int64_t tiles = (S + kBf16Tile - 1) / kBf16Tile, Sp = tiles * kBf16Tile;
  for (int64_t c0 = begin; c0 < end; c0 += kc) {
    const int64_t c1 = std::min(end, c0 + kc);
    for (int64_t ta = 0; ta < tiles; ++ta) {
      const uint16_t* a[4];
      for (int r = 0; r < 4; ++r) a[r] = rows + std::min(S - 1, ta * kBf16Tile + r) * N;
      for (int64_t tb = ta; tb < tiles; ++tb) {
        const uint16_t* b[4];
        for (int r = 0; r < 4; ++r) b[r] = rows + std::min(S - 1, tb * kBf16Tile + r) * N;
        bf16Tile(a, b, c0, c1, g + ta * kBf16Tile * Sp + tb * kBf16Tile, Sp);
      }
    }
  }
}

void addGramBf16Kernel(const uint16_t* rows, int64_t S, int64_t N, at::Tensor& gram) {
  const int64_t tiles = (S + kBf16Tile - 1) / kBf16Tile, Sp = tiles * kBf16Tile;
  // Columns per pass over the tiles, whole flush blocks: all rows' share (S x kc bf16 values, about
  // 512 KB) stays in a core's L2.
  const int64_t kc = std::clamp<int64_t>((int64_t{256} << 10) / S / kBf16FlushColumns, 1, 4) * kBf16FlushColumns;
  addGramBySegments(
      S, Sp, N, kc, [&](int64_t begin, int64_t end, double* g) { segmentGramBf16(rows, S, N, begin, end, kc, g); },
      gram);
}
#pragma GCC diagnostic pop
#endif

}  // namespace

void addGram(const at::Tensor& rows, at::Tensor& gram, GramSums sums) {
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
    if (t == at::kBFloat16 && sums == GramSums::Float32Blocks && cpuHasAvx512Bf16()) {
      addGramBf16Kernel(reinterpret_cast<const uint16_t*>(c.data_ptr<at::BFloat16>()), S, N, gram);
      return;
    }
    if (t == at::kBFloat16) addGramKernel(reinterpret_cast<const uint16_t*>(c.data_ptr<at::BFloat16>()), S, N, gram);
    else if (t == at::kFloat) addGramKernel(c.data_ptr<float>(), S, N, gram);
    else addGramKernel(c.data_ptr<double>(), S, N, gram);
    return;
  }
#endif
  addGramByChunks(rows, gram);
}

}  // namespace moe
