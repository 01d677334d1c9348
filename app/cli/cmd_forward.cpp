#include <chrono>
#include <cstdint>
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/engine/model.h"
#include "core/engine/tensor_h5.h"
#include "core/engine/token_source.h"
#include "core/io/h5file.h"

namespace moe::cli {
namespace {

// Writes hidden states and router logits as the forward pass produces them.
class RecordingObserver : public ForwardObserver {
 public:
  explicit RecordingObserver(h5::File& out) : out_(out) {}
  void onHiddenState(int i, const at::Tensor& hidden) override {
    writeTensor(out_, "hidden_states/" + std::to_string(i), hidden);
  }
  void onMoeBlock(const MoeTrace& t) override {
    writeTensor(out_, "router_logits/" + std::to_string(t.moeIndex), t.routerLogits);
  }

 private:
  h5::File& out_;
};

}  // namespace

int cmdForward(const Argv& argv) {
  Args args(argv, {"model", "ids", "text", "sequences", "length", "out", "device", "dtype", "threads"}, {});
  initThreads(static_cast<int>(args.getInt("threads", 0)));
  const Runtime rt = Runtime::make(args.get("device", "auto"), args.get("dtype", "fp32"));
  auto model = Model::open(args.get("model"), rt);
  TokenSourceOptions source;
  source.sequences = args.getInt("sequences", 2, 1, INT32_MAX);
  source.length = args.getInt("length", 128, 1, INT32_MAX);
  at::Tensor ids = args.has("ids") ? readIdsTensor(args.get("ids")) : loadTokenIds(args.get("text"), model->folder(), source);
  h5::File out(args.get("out"), h5::File::Mode::Create);
  RecordingObserver observer(out);
  const auto start = std::chrono::steady_clock::now();
  at::Tensor logits = model->forward(ids, &observer);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  writeTensor(out, "logits", logits);
  writeTensor(out, "input_ids", ids);
  out.writeAttribute("/", "model", model->folder());
  std::printf("model      %s (%s, %d layers, %zu MoE blocks, %lld experts, top-%lld)\n", model->folder().c_str(),
              model->config().modelType.c_str(), model->numLayers(), model->moeLayers().size(),
              static_cast<long long>(model->config().numExperts), static_cast<long long>(model->config().topK));
  std::printf("input      %lld x %lld tokens\n", static_cast<long long>(ids.size(0)), static_cast<long long>(ids.size(1)));
  std::printf("runtime    %s\n", rt.describe().c_str());
  std::printf("time       %.2f s (%.0f tokens/s)\n", secs, ids.numel() / std::max(secs, 1e-9));
  at::Tensor last = logits.select(1, logits.size(1) - 1).argmax(-1);
  std::printf("next token (argmax at the last position):");
  for (int64_t b = 0; b < last.size(0); ++b) std::printf(" %lld", static_cast<long long>(last[b].item<int64_t>()));
  std::printf("\nwrote      %s\n", args.get("out").c_str());
  return 0;
}

}  // namespace moe::cli
