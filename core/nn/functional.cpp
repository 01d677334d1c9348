#include "core/nn/functional.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/nn/fastest.h"
#include "core/nn/small_rows_linear.h"

namespace moe {

namespace {

// Whether products of this low-precision type are faster through fp32 on this CPU: measured once per
// type on a small product. libtorch's bf16 / fp16 CPU GEMM is fast where oneDNN has kernels for the
// CPU (AVX-512, AMX) and many times slower than fp32 elsewhere (AVX2: see below), and no CPU flag
// tells which kernels a given libtorch has.
bool fasterThroughFloat(at::ScalarType t) {
  auto measure = [t] {
    const at::Tensor x = at::randn({16, 512}).to(t), w = at::randn({512, 512}).to(t);
    const double native = fastestSeconds([&] { at::linear(x, w); });
    const double viaFloat = fastestSeconds([&] { at::linear(x.to(at::kFloat), w.to(at::kFloat)).to(t); });
    return viaFloat < 0.8 * native;
  };
  if (t == at::kBFloat16) {
    static const bool bf16 = measure();
    return bf16;
  }
  static const bool fp16 = measure();
  return fp16;
}

bool throughFloat(const at::Tensor& x, int64_t rows) {
  constexpr int64_t kMinRows = 4;
  return rows >= kMinRows && x.device().is_cpu() &&
         (x.scalar_type() == at::kBFloat16 || x.scalar_type() == at::kHalf) && fasterThroughFloat(x.scalar_type());
}

// a @ b, through fp32 where this CPU's low-precision product is slower, rounded to a's type as
// the low-precision product rounds its result. Attention's two products per sequence: on a CPU
// without native bf16 they took about 4 s of a 2-layer bf16 analysis of 4 x 512 tokens.
at::Tensor matmulRounded(const at::Tensor& a, const at::Tensor& b) {
  if (throughFloat(a, a.dim() >= 2 ? a.size(-2) : 0)) return at::matmul(toFloat(a), toFloat(b)).to(a.scalar_type());
  return at::matmul(a, b);
}

}  // namespace

bool lowPrecisionThroughFloat(at::ScalarType type) {
  return (type == at::kBFloat16 || type == at::kHalf) && fasterThroughFloat(type);
}

at::Tensor dense(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (smallRowsLinearApplies(x, w)) return smallRowsLinear(x, w, b);
  if (throughFloat(x, x.dim() > 0 && x.size(-1) > 0 ? x.numel() / x.size(-1) : 0)) {
    const at::Tensor y = b.defined() ? at::linear(toFloat(x), toFloat(w), b.to(at::kFloat))
                                     : at::linear(toFloat(x), toFloat(w));
    return y.to(x.scalar_type());
  }
  return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
}


at::Tensor rmsNormalized(const at::Tensor& x, double eps) {
  const at::Tensor h = x.to(at::kFloat);
  return h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
}

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  return weight * rmsNormalized(x, eps).to(x.scalar_type());
}

at::Tensor swigluMlp(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& up, const at::Tensor& down) {
  return dense(at::silu(dense(x, gate)) * dense(x, up), down);
}

namespace {

// YaRN (Peng et al.) as transformers computes it: frequencies below the correction range are
// interpolated by `factor`, those above are kept, with a linear ramp between.
at::Tensor yarnInvFreq(const RopeConfig& rope, int64_t dim, int64_t maxPos, double& attentionFactor) {
  const double base = rope.theta;
  const double factor = rope.getNumber("factor", 1.0);
  // transformers 5 uses the explicit factor even when max_position_embeddings /
  // original_max_position_embeddings disagrees with it (it only warns).
  const double originalMax = rope.getNumber("original_max_position_embeddings", static_cast<double>(maxPos));
  auto getMscale = [](double scale, double mscale) {
    return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
  };
  if (rope.has("attention_factor")) {
    attentionFactor = rope.getNumber("attention_factor", 1.0);
  } else {
    const double mscale = rope.getNumber("mscale", 0.0), mscaleAll = rope.getNumber("mscale_all_dim", 0.0);
    attentionFactor = (mscale != 0.0 && mscaleAll != 0.0) ? getMscale(factor, mscale) / getMscale(factor, mscaleAll)
                                                          : getMscale(factor, 1.0);
  }
  const double betaFast = rope.getNumber("beta_fast", 32.0), betaSlow = rope.getNumber("beta_slow", 1.0);
  const bool truncate = !(rope.params.contains("truncate") && rope.params["truncate"].is_boolean() &&
                          !rope.params["truncate"].get<bool>());
  auto correctionDim = [&](double rotations) {
    return (dim * std::log(originalMax / (rotations * 2 * M_PI))) / (2 * std::log(base));
  };
  double low = correctionDim(betaFast), high = correctionDim(betaSlow);
  if (truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;  // avoid a division by zero in the ramp
  at::Tensor posFreqs = at::pow(base, at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim));
  at::Tensor extrapolation = 1.0 / posFreqs;
  at::Tensor interpolation = 1.0 / (factor * posFreqs);
  at::Tensor ramp = ((at::arange(dim / 2, at::kFloat) - low) / (high - low)).clamp(0, 1);
  at::Tensor extrapolationFactor = 1 - ramp;
  return interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
}

// Llama 3.1's frequency-dependent scaling (also Llama-4 Scout's), as transformers computes it: long
// wavelengths are divided by `factor`, short ones kept, those between interpolated smoothly.
at::Tensor llama3InvFreq(const RopeConfig& rope, at::Tensor invFreq) {
  for (const char* key : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
    if (!rope.has(key))
      throw Error(ErrorKind::Config, std::string("rope type 'llama3' needs rope_parameters.") + key);
  const double factor = rope.getNumber("factor", 1.0), low = rope.getNumber("low_freq_factor", 1.0),
               high = rope.getNumber("high_freq_factor", 4.0),
               oldContext = rope.getNumber("original_max_position_embeddings", 8192.0);
  const double lowWavelen = oldContext / low, highWavelen = oldContext / high;
  at::Tensor wavelen = (2 * M_PI) / invFreq;
  at::Tensor scaled = at::where(wavelen > lowWavelen, invFreq / factor, invFreq);
  // With low == high (Scout) the smooth factor is not finite, but then no frequency is medium.
  at::Tensor smooth = (oldContext / wavelen - low) / (high - low);
  at::Tensor smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
  at::Tensor medium = wavelen.ge(highWavelen) & wavelen.le(lowWavelen);
  return at::where(medium, smoothed, scaled);
}

}  // namespace

RopeTable makeRopeTable(const RopeConfig& rope, int64_t dim, int64_t maxPos, int64_t T, const Runtime& rt) {
  // Rotary embeddings rotate pairs of dims: an odd width (e.g. head_dim 17) has no valid table, and
  // would otherwise surface as a torch shape error deep inside the frequency computation.
  if (dim <= 0 || dim % 2 != 0)
    throw Error(ErrorKind::Config, "the rotary dimension (head_dim, or its rotary part) is " + std::to_string(dim) +
                                       "; rotary embeddings need a positive even number");
  RopeTable table;
  at::Tensor invFreq;
  if (rope.type == "default") {
    invFreq = 1.0 / at::pow(rope.theta, at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim));
  } else if (rope.type == "yarn") {
    invFreq = yarnInvFreq(rope, dim, maxPos, table.attentionFactor);
  } else if (rope.type == "llama3") {
    invFreq = llama3InvFreq(
        rope, 1.0 / at::pow(rope.theta, at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim)));
  } else if (rope.type == "linear") {
    invFreq = 1.0 / at::pow(rope.theta, at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim));
    invFreq = invFreq / rope.getNumber("factor", 1.0);
  } else {
    throw Error(ErrorKind::Unsupported,
                "rope type '" + rope.type + "' is not supported (supported: default, linear, llama3, yarn)");
  }
  at::Tensor positions = at::arange(T, at::kFloat);
  at::Tensor freqs = at::outer(positions, invFreq);
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  table.cos = (emb.cos() * table.attentionFactor).to(rt.device, rt.dtype);
  table.sin = (emb.sin() * table.attentionFactor).to(rt.device, rt.dtype);
  return table;
}

namespace {
at::Tensor rotateHalf(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}
}  // namespace

RopeTable ropeRows(const RopeTable& table, const at::Tensor& positions) {
  RopeTable rows = table;
  const at::Tensor flat = positions.reshape({-1}).to(table.cos.device());
  std::vector<int64_t> shape{positions.size(0), 1, positions.size(1), table.cos.size(-1)};
  rows.cos = table.cos.index_select(0, flat).view(shape);
  rows.sin = table.sin.index_select(0, flat).view(shape);
  return rows;
}

at::Tensor applyRope(const at::Tensor& x, const RopeTable& table) {
  if (table.cos.dim() == 4) return x * table.cos + rotateHalf(x) * table.sin;  // rows of ropeRows
  const int64_t T = x.size(-2);
  at::Tensor cos = table.cos.narrow(0, 0, T), sin = table.sin.narrow(0, 0, T);
  return x * cos + rotateHalf(x) * sin;
}

at::Tensor applyRopeInterleaved(const at::Tensor& x, const RopeTable& table) {
  // [.., d] viewed as [.., d/2, 2], pairs moved to [.., 2, d/2]: evens first, then odds.
  std::vector<int64_t> sizes = x.sizes().vec();
  const int64_t d = x.size(-1);  // x has at least one dim (size(-1) checks); gcc 14 cannot see that sizes is non-empty
  sizes.pop_back();
  sizes.push_back(d / 2);
  sizes.push_back(2);
  at::Tensor y = x.reshape(sizes).transpose(-1, -2).reshape(x.sizes());
  return applyRope(y, table);
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionOptions& opts) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), Tk = k.size(2), Hkv = k.size(1);
  if (Tk != T + opts.queryOffset)
    throw Error(ErrorKind::Shape, "attention: " + std::to_string(Tk) + " keys for " + std::to_string(T) +
                                      " queries at offset " + std::to_string(opts.queryOffset));
  at::Tensor kk = k, vv = v;
  if (Hkv != H) {  // grouped-query attention: each key/value head serves H / Hkv query heads
    kk = k.repeat_interleave(H / Hkv, 1);
    vv = v.repeat_interleave(H / Hkv, 1);
  }
  // The mask: key j is visible from query i when j <= i (and i - j < window).
  const auto longs = at::TensorOptions().dtype(at::kLong).device(q.device());
  at::Tensor qIdx = at::arange(opts.queryOffset, opts.queryOffset + T, longs), kIdx = at::arange(Tk, longs);
  at::Tensor diff = qIdx.unsqueeze(1) - kIdx.unsqueeze(0);  // i - j
  at::Tensor allowed = diff.ge(0);
  if (opts.slidingWindow > 0) allowed = allowed & diff.lt(opts.slidingWindow);
  if (opts.chunkSize > 0) {  // same chunk: floor(i / c) == floor(j / c)
    at::Tensor qChunk = at::div(qIdx, opts.chunkSize, "floor"), kChunk = at::div(kIdx, opts.chunkSize, "floor");
    allowed = allowed & qChunk.unsqueeze(1).eq(kChunk.unsqueeze(0));
  }
  at::Tensor out = at::empty({B, H, T, vv.size(-1)}, q.options());
  // One sequence at a time keeps the [H, T, T] score matrix small for long calibration sequences.
  for (int64_t b = 0; b < B; ++b) {
    at::Tensor scores = matmulRounded(q[b], kk[b].transpose(-1, -2)).to(at::kFloat) * opts.scaling;
    at::Tensor keep = opts.keyMask.defined() ? allowed & opts.keyMask[b] : allowed;
    scores = scores.masked_fill(keep.logical_not(), -std::numeric_limits<float>::infinity());
    at::Tensor probs;
    if (opts.sinks.defined()) {
      at::Tensor sink = opts.sinks.to(at::kFloat).view({H, 1, 1}).expand({H, T, 1});
      at::Tensor combined = at::cat({scores, sink}, -1);
      combined = combined - std::get<0>(combined.max(-1, true));
      probs = at::softmax(combined, -1).narrow(-1, 0, Tk);
    } else {
      probs = at::softmax(scores, -1);
    }
    out[b] = matmulRounded(probs.to(vv.scalar_type()), vv[b]);
  }
  return out.transpose(1, 2).reshape({B, T, H * vv.size(-1)});
}

}  // namespace moe
