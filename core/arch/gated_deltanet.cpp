#include "core/arch/gated_deltanet.h"

#include <cmath>
#include <limits>

#include "core/nn/functional.h"

namespace moe {

at::Tensor causalDepthwiseConvSilu(const at::Tensor& x, const at::Tensor& weight, at::Tensor* past) {
  const int64_t B = x.size(0), T = x.size(1), K = weight.size(-1), P = K - 1;
  // The K - 1 inputs before x: the caller's (incremental decoding), else zeros (a sequence's start).
  const at::Tensor before =
      past && past->defined() ? past->to(x.scalar_type()) : at::zeros({B, P, x.size(2)}, x.options());
  const at::Tensor in = at::cat({before, x}, 1);  // [B, P + T, C]
  if (past) *past = in.narrow(1, T, P).contiguous();
  // Output t = sum over taps j of w[:, j] * in[t + j] (tap K - 1 is step t itself), summed in fp32 and
  // rounded once to the weight's dtype, as a bf16 convolution accumulates. Written as K shifted
  // products: libtorch's CPU conv1d runs this depthwise shape through a slow generic path in bf16
  // (two thirds of a Qwen3-Next decoding step). One sequence at a time bounds the fp32 copy.
  const at::Tensor w = weight.to(at::kFloat).select(1, 0);  // [C, K]
  at::Tensor out = at::empty(x.sizes(), x.options());
  for (int64_t b = 0; b < B; ++b) {
    const at::Tensor row = in[b].to(at::kFloat);  // [P + T, C]
    at::Tensor acc = row.narrow(0, 0, T) * w.select(1, 0);
    for (int64_t j = 1; j < K; ++j) acc.addcmul_(row.narrow(0, j, T), w.select(1, j));
    out[b].copy_(at::silu(acc.to(weight.scalar_type())));
  }
  return out;
}

namespace {
at::Tensor l2normalize(const at::Tensor& x) { return x * at::rsqrt((x * x).sum(-1, /*keepdim=*/true) + 1e-6); }
}  // namespace

at::Tensor gatedDeltaRule(const at::Tensor& qIn, const at::Tensor& kIn, const at::Tensor& vIn, const at::Tensor& gIn,
                          const at::Tensor& betaIn, int64_t C, at::Tensor* carried) {
  const int64_t B = kIn.size(0), T = kIn.size(1), H = vIn.size(2), dk = kIn.size(3), dv = vIn.size(3);
  // [B, H, T, ...] in fp32.
  auto heads = [](const at::Tensor& t) { return t.transpose(1, 2).to(at::kFloat).contiguous(); };
  at::Tensor q = l2normalize(heads(qIn)) * (1.0 / std::sqrt(static_cast<double>(dk)));
  at::Tensor k = l2normalize(heads(kIn));
  at::Tensor v = heads(vIn), g = heads(gIn), beta = heads(betaIn);

  // Zero padding to whole chunks: a padded step has beta = 0 and g = 0, so it changes nothing
  // before it, and its outputs are dropped.
  const int64_t pad = (C - T % C) % C, N = (T + pad) / C;
  if (pad > 0) {
    q = at::constant_pad_nd(q, {0, 0, 0, pad});
    k = at::constant_pad_nd(k, {0, 0, 0, pad});
    v = at::constant_pad_nd(v, {0, 0, 0, pad});
    g = at::constant_pad_nd(g, {0, pad});
    beta = at::constant_pad_nd(beta, {0, pad});
  }
  q = q.view({B, H, N, C, dk});
  k = k.view({B, H, N, C, dk});
  at::Tensor kBeta = k * beta.view({B, H, N, C, 1});
  at::Tensor vBeta = v.view({B, H, N, C, dv}) * beta.view({B, H, N, C, 1});
  at::Tensor cum = g.view({B, H, N, C}).cumsum(-1);  // log of the decay from the chunk start to each step

  // decay[i][j] = exp(cum_i - cum_j) for j <= i, 0 above the diagonal (masked before exp: no overflow).
  at::Tensor upper = at::ones({C, C}, at::TensorOptions().dtype(at::kBool).device(q.device())).triu(1);
  at::Tensor decay = (cum.unsqueeze(-1) - cum.unsqueeze(-2)).masked_fill(upper, -std::numeric_limits<float>::infinity()).exp();

  // Within a chunk the delta rule is the unit lower-triangular system (I + A) U = V_beta with
  // A = strictly-lower(K_beta K^T * decay) (the UT transform); solving it gives the pseudo-values U
  // and the decayed keys W that read the state carried in from earlier chunks.
  at::Tensor system = at::matmul(kBeta, k.transpose(-1, -2)) * decay;
  at::Tensor u = at::linalg_solve_triangular(system, vBeta, /*upper=*/false, /*left=*/true, /*unitriangular=*/true);
  at::Tensor w = at::linalg_solve_triangular(system, kBeta * cum.exp().unsqueeze(-1), /*upper=*/false, /*left=*/true,
                                             /*unitriangular=*/true);
  at::Tensor intra = at::matmul(q, k.transpose(-1, -2)) * decay;  // causal q.k within the chunk, diagonal included

  at::Tensor qDecayed = q * cum.exp().unsqueeze(-1);
  at::Tensor last = cum.narrow(-1, C - 1, 1);                          // [B, H, N, 1]
  at::Tensor kToEnd = k * (last - cum).exp().unsqueeze(-1);            // keys decayed to the chunk's end
  at::Tensor chunkDecay = last.exp().unsqueeze(-1);                    // [B, H, N, 1, 1]

  at::Tensor state = carried && carried->defined() ? carried->to(q.options()) : at::zeros({B, H, dk, dv}, q.options());
  at::Tensor out = at::empty({B, H, N, C, dv}, q.options());
  for (int64_t n = 0; n < N; ++n) {
    const auto at_n = [n](const at::Tensor& t) { return t.select(2, n); };
    at::Tensor vNew = at_n(u) - at::matmul(at_n(w), state);
    out.select(2, n).copy_(at::matmul(at_n(qDecayed), state) + at::matmul(at_n(intra), vNew));
    state = state * at_n(chunkDecay) + at::matmul(at_n(kToEnd).transpose(-1, -2), vNew);
  }
  // Padded steps (beta = 0, g = 0) leave the state as the last real step left it.
  if (carried) *carried = state;
  return out.view({B, H, N * C, dv}).narrow(2, 0, T).transpose(1, 2).contiguous().to(vIn.scalar_type());
}

at::Tensor gatedRmsNorm(const at::Tensor& x, const at::Tensor& z, const at::Tensor& weight, double eps) {
  // transformers multiplies the weight with the normalised value in x's dtype, the gate in fp32.
  at::Tensor scaled = rmsNorm(x, weight, eps);
  return (scaled * at::silu(z.to(at::kFloat))).to(x.scalar_type());
}

at::Tensor offsetRmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  return (rmsNormalized(x, eps) * (1.0 + weight.to(at::kFloat))).to(x.scalar_type());
}

}  // namespace moe
