#include "core/eval/evaluate.h"

#include <chrono>
#include <cmath>

#include "core/error.h"

namespace moe {
namespace {

class FinalHiddenCatcher : public ForwardObserver {
 public:
  FinalHiddenCatcher(int finalIndex, ForwardObserver* inner) : final_(finalIndex), inner_(inner) {}
  void onHiddenState(int i, const at::Tensor& h) override {
    if (i == final_) hidden = h;
    if (inner_) inner_->onHiddenState(i, h);
  }
  void onMoeRouting(MoeTrace& t) override {
    if (inner_) inner_->onMoeRouting(t);
  }
  void onMoeBlock(const MoeTrace& t) override {
    if (inner_) inner_->onMoeBlock(t);
  }
  void onLayerDone(int l, int n) override {
    if (inner_) inner_->onLayerDone(l, n);
  }
  bool cancelled() const override { return inner_ && inner_->cancelled(); }
  at::Tensor hidden;

 private:
  int final_;
  ForwardObserver* inner_;
};

}  // namespace

at::Tensor finalHidden(Model& model, const at::Tensor& ids, const ForwardOptions& options, ForwardObserver* observer) {
  FinalHiddenCatcher catcher(model.numLayers(), observer);
  ForwardOptions o = options;
  o.computeLogits = false;
  o.stopAfterLayer = -1;
  model.forward(ids, &catcher, o);
  return catcher.hidden;
}

EvalResult scoreHidden(const Model& model, const at::Tensor& hidden, const at::Tensor& idsIn,
                       const at::Tensor& referenceHidden) {
  if (idsIn.size(1) < 2) throw Error(ErrorKind::InvalidArgument, "evaluation sequences need at least 2 tokens");
  const auto start = std::chrono::steady_clock::now();
  const std::string headName = model.arch().lmHeadName();
  const at::Tensor head = model.loadTensor(headName);
  const at::Tensor ids = idsIn.to(at::kLong).to(hidden.device());
  const int64_t B = ids.size(0), T = ids.size(1);
  double nll = 0, kl = 0;
  int64_t agree = 0;
  for (int64_t b = 0; b < B; ++b) {
    // Logits for positions 0..T-2 predict tokens 1..T-1.
    at::Tensor logits = model.arch().logits(hidden[b].narrow(0, 0, T - 1), head).to(at::kFloat);
    at::Tensor logp = at::log_softmax(logits, -1);
    at::Tensor target = ids[b].narrow(0, 1, T - 1).unsqueeze(1);
    nll -= logp.gather(1, target).sum().item<double>();
    if (referenceHidden.defined()) {
      at::Tensor refLogits = model.arch().logits(referenceHidden[b].narrow(0, 0, T - 1), head).to(at::kFloat);
      at::Tensor refLogp = at::log_softmax(refLogits, -1);
      kl += (refLogp.exp() * (refLogp - logp)).sum().item<double>();
      agree += logp.argmax(-1).eq(refLogp.argmax(-1)).sum().item<int64_t>();
    }
  }
  EvalResult r;
  r.predicted = B * (T - 1);
  r.meanNll = nll / static_cast<double>(r.predicted);
  r.perplexity = std::exp(r.meanNll);
  if (referenceHidden.defined()) {
    r.meanKl = kl / static_cast<double>(r.predicted);
    r.top1Agreement = static_cast<double>(agree) / static_cast<double>(r.predicted);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

EvalResult evaluate(Model& model, const at::Tensor& ids, const ForwardOptions& options,
                    const at::Tensor& referenceHidden, ForwardObserver* observer) {
  const auto start = std::chrono::steady_clock::now();
  at::Tensor hidden = finalHidden(model, ids, options, observer);
  EvalResult r = scoreHidden(model, hidden, ids, referenceHidden);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace moe
