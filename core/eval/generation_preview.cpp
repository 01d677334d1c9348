#include "core/eval/generation_preview.h"

#include <algorithm>

#include "core/error.h"
#include "core/text/calibration.h"

namespace moe {

std::vector<std::string> readPrompts(const std::string& path, const std::string& textField) {
  CalibReadOptions o;
  o.textField = textField;
  if (resolveCalibFormat(path, o) == CalibFormat::Npy)
    throw Error(ErrorKind::InvalidArgument, path + ": prompts are text (JSON lines or plain text), not token ids");
  std::vector<std::string> prompts = readCalibrationDocuments(path, o);
  if (prompts.empty()) throw Error(ErrorKind::InvalidArgument, path + ": no prompts in this file");
  return prompts;
}

std::vector<std::vector<int64_t>> tokenizePrompts(const Tokenizer& tokenizer, const std::vector<std::string>& prompts) {
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::vector<TokenId> ids = tokenizer.encode(prompts[i]);
    if (ids.empty())
      throw Error(ErrorKind::InvalidArgument, "prompt " + std::to_string(i + 1) + " gives no tokens (is it empty?)");
    out.emplace_back(ids.begin(), ids.end());
  }
  return out;
}

std::vector<PreviewResult> generationPreview(Model& model, const std::vector<std::vector<int64_t>>& prompts,
                                             const GenerateOptions& options, const std::vector<PreviewVariant>& variants,
                                             const PreviewCallbacks& cb) {
  validateGenerateRequest(model, prompts, options);  // before any variant runs
  std::vector<PreviewResult> results;
  for (size_t v = 0; v < variants.size(); ++v) {
    GenerateCallbacks g;
    g.cancel = cb.cancel;
    if (cb.onToken) g.onToken = [&, v](size_t p, int64_t t) { cb.onToken(v, p, t); };
    if (cb.onStep) g.onStep = [&, v](int64_t done, int64_t total) { cb.onStep(v, done, total); };
    PreviewResult r;
    r.name = variants[v].name;
    r.continuations = generate(model, prompts, options, variants[v].override, g, &r.stats);
    std::vector<std::vector<int64_t>> ref, mine;
    for (size_t p = 0; p < prompts.size(); ++p) {
      const auto& a = results.empty() ? r.continuations[p].tokens : results.front().continuations[p].tokens;
      const auto& b = r.continuations[p].tokens;
      const int64_t same = identicalPrefixLength(a, b);
      r.firstDivergence.push_back(same < static_cast<int64_t>(std::min(a.size(), b.size())) ? same : -1);
      ref.push_back(a);
      mine.push_back(b);
    }
    r.agreement = freeRunningAgreement(ref, mine);
    results.push_back(std::move(r));
  }
  return results;
}

std::vector<std::vector<int64_t>> heldOutPrompts(const at::Tensor& evalIds, const HeldOutGenerationOptions& o) {
  if (evalIds.dim() != 2 || evalIds.size(0) < 1)
    throw Error(ErrorKind::InvalidArgument, "held-out generation needs evaluation sequences");
  const int64_t n = std::min(o.prompts, evalIds.size(0)), len = std::min(o.prefix, evalIds.size(1));
  if (n < 1 || len < 1) throw Error(ErrorKind::InvalidArgument, "held-out generation needs at least one prompt token");
  const at::Tensor ids = evalIds.narrow(0, 0, n).narrow(1, 0, len).to(at::kCPU, at::kLong).contiguous();
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t i = 0; i < n; ++i) prompts.emplace_back(ids[i].data_ptr<int64_t>(), ids[i].data_ptr<int64_t>() + len);
  return prompts;
}

FreeRunningAgreement heldOutGenerationAgreement(Model& model, const at::Tensor& evalIds, const MoeOverride& variant,
                                                const HeldOutGenerationOptions& o,
                                                std::vector<std::vector<int64_t>>& reference,
                                                const GenerateCallbacks& callbacks) {
  const std::vector<std::vector<int64_t>> prompts = heldOutPrompts(evalIds, o);
  GenerateOptions g;
  g.maxNewTokens = o.newTokens;
  auto tokens = [](const std::vector<Continuation>& c) {
    std::vector<std::vector<int64_t>> t;
    for (const auto& x : c) t.push_back(x.tokens);
    return t;
  };
  if (reference.empty()) reference = tokens(generate(model, prompts, g, {}, callbacks));
  return freeRunningAgreement(reference, tokens(generate(model, prompts, g, variant, callbacks)));
}

}  // namespace moe
