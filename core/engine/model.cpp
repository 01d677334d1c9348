#include "core/engine/model.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/model/quant.h"

namespace moe {

std::unique_ptr<Model> Model::open(const std::string& dir, const Runtime& runtime) {
  std::unique_ptr<Model> m(new Model());
  m->dir_ = dir;
  m->rt_ = runtime;
  if (!std::filesystem::is_directory(dir)) throw Error(ErrorKind::Io, dir + ": not a model folder");
  ModelConfig cfg = ModelConfig::fromFile((std::filesystem::path(dir) / "config.json").string());
  m->arch_ = makeArchitecture(cfg);
  m->store_ = TensorStore::openFolder(dir);
  // Quantized storage is checked and mapped onto the logical tensors the architecture names.
  applyQuantization(*m->store_, cfg.quant, cfg.source());
  for (int l = 0; l < cfg.numLayers; ++l)
    if (m->arch_->isMoeLayer(l)) {
      m->moeLayers_.push_back(l);
      m->arch_->expertMap(l);  // validates an expert-map checkpoint's per-layer map
    }
  m->validateShapes();
  return m;
}

void Model::validateShapes() const {
  auto check = [&](const TensorSpec& spec) {
    const TensorInfo& info = store_->get(spec.name);
    if (info.shape != spec.shape)
      throw Error(ErrorKind::Shape, info.file + ": tensor '" + spec.name + "' has shape " + shapeString(info.shape) +
                                        (info.quant == QuantFormat::Mxfp4
                                             ? " (as MXFP4 blocks '" + info.values->name + "' " +
                                                   shapeString(info.values->shape) + " encode it)"
                                             : std::string()) +
                                        ", expected " + shapeString(spec.shape) + " from config.json");
  };
  for (const auto& spec : arch_->globalTensors()) check(spec);
  for (int l = 0; l < numLayers(); ++l)
    for (const auto& spec : arch_->layerTensors(l)) check(spec);
  // MTP blocks are optional (many uploads strip them), but the ones present must be what config.json
  // describes: an export drops them only when it can trust what it drops.
  std::map<std::string, const TensorSpec*> mtp;
  const std::vector<TensorSpec> mtpSpecs = arch_->mtpTensors();
  for (const auto& spec : mtpSpecs) mtp[spec.name] = &spec;
  std::set<std::string> names;  // logical names: a quantized tensor's scales and blocks stand for it
  for (const auto& stored : store_->names()) names.insert(store_->logicalNameOf(stored));
  for (const auto& name : names) {
    if (!arch_->isMtpTensor(name)) continue;
    auto it = mtp.find(name);
    if (it == mtp.end())
      throw Error(ErrorKind::Shape, store_->get(name).file + ": tensor '" + name +
                                        "' lies in the multi-token-prediction (MTP) block but is not one of its "
                                        "tensors for this config.json");
    check(*it->second);
  }
}

at::Tensor Model::loadTensor(const std::string& name) const {
  if (!resident_) return tensorFromInfo(store_->get(name), rt_);
  auto it = residentGlobals_.find(name);
  if (it == residentGlobals_.end()) it = residentGlobals_.emplace(name, tensorFromInfo(store_->get(name), rt_)).first;
  return it->second;
}

LayerWeights Model::loadLayer(int layer) const {
  // Shapes were checked at open; tensors are converted lazily, when the layer's forward uses them,
  // and stacked expert weights reuse the previous layer's buffers (fresh pages cost more than the
  // conversion itself). A resident layer keeps its conversions and owns its buffers.
  if (resident_) {
    if (residentLayers_.empty()) residentLayers_.assign(static_cast<size_t>(numLayers()), LayerWeights());
    LayerWeights& w = residentLayers_.at(static_cast<size_t>(layer));
    if (!w.hasStore()) w = LayerWeights(store_.get(), rt_, nullptr);
    return w;
  }
  return LayerWeights(store_.get(), rt_, &pool_);
}

void Model::releaseLayerPages(int layer) const {
  for (const auto& spec : arch_->layerTensors(layer)) releaseMappedPages(store_->get(spec.name));
}

void Model::setResident(bool resident) {
  resident_ = resident;
  if (!resident) {
    residentLayers_.clear();
    residentGlobals_.clear();
  }
}

MoeBlock Model::moeBlock(int moeIndex) const {
  const int layer = moeLayers_.at(static_cast<size_t>(moeIndex));
  MoeBlock block = arch_->moeBlock(layer, loadLayer(layer));
  block.expertSlot = arch_->expertMap(layer);
  return block;
}

at::Tensor Model::forward(const at::Tensor& idsIn, ForwardObserver* observer, const ForwardOptions& options) {
  if (idsIn.dim() != 2) throw Error(ErrorKind::InvalidArgument, "token ids must be [batch, length]");
  at::Tensor ids = idsIn.to(at::kLong).to(rt_.device);
  const int64_t V = config().vocabSize;
  if (ids.numel() > 0 && (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= V))
    throw Error(ErrorKind::InvalidArgument, "token ids must lie in [0, " + std::to_string(V) + ") for this model");
  const int64_t B = ids.size(0), T = ids.size(1);
  DecodeState* decode = options.decode;
  if (decode && !arch_->supportsKvCache())
    throw Error(ErrorKind::Unsupported, arch_->name() + ": no KV cache for this architecture");
  // The architecture sees the decode state only for this call, whatever way the call ends.
  struct DecodeScope {
    Architecture& arch;
    ~DecodeScope() { arch.setDecodeState(nullptr); }
  } scope{*arch_};
  arch_->setDecodeState(decode);
  arch_->prepare(decode ? decode->past + T : T, rt_);
  const int L = numLayers();
  const int last = options.stopAfterLayer >= 0 ? std::min(options.stopAfterLayer, L) : L;
  // Resident layers are read once; given blocks leave little of a layer to read ahead.
  std::optional<LayerStager> stager;
  if (staging_ != Staging::Off && !resident_ && !options.blocks && last > 0) {
    stager.emplace(*store_, *arch_, rt_, staging_, stagingChunk_);
    stager->start(0);
  }
  stagingFailure_.clear();
  at::Tensor hidden = arch_->embed(ids, loadTensor(arch_->embeddingName()));
  // Converted tensors are copies (resident ones included), so the mapped pages can always go.
  releaseMappedPages(store_->get(arch_->embeddingName()));
  if (observer) observer->onHiddenState(0, hidden);

  const double rs = arch_->residualScale();
  ForwardTimes unreported;
  ForwardTimes& times = options.times ? *options.times : unreported;
  auto now = std::chrono::steady_clock::now();
  // Adds the time since the last call to `slot`.
  auto lap = [&](double& slot) {
    const auto t = std::chrono::steady_clock::now();
    slot += std::chrono::duration<double>(t - now).count();
    now = t;
  };
  int moeIndex = 0;
  for (int l = 0; l < last; ++l) {
    if (observer && observer->cancelled()) throw Error(ErrorKind::Cancelled, "forward pass cancelled");
    now = std::chrono::steady_clock::now();
    LayerWeights w = stager ? LayerWeights(store_.get(), rt_, &pool_, stager->take(l)) : loadLayer(l);
    if (stager) {
      if (l + 1 < last) stager->start(l + 1);
      stagingFailure_ = stager->failure();
    }
    lap(times.staging);
    at::Tensor x = arch_->norm(hidden, w.get(arch_->inputNormName(l)));
    hidden = hidden + arch_->attention(l, w, x) * rs;
    x = arch_->norm(hidden, w.get(arch_->postAttentionNormName(l)));
    lap(times.attention);
    at::Tensor mlp;
    if (arch_->isMoeLayer(l)) {
      MoeBlock block;
      if (options.blocks) {
        block = options.blocks->at(static_cast<size_t>(moeIndex));
      } else {
        block = arch_->moeBlock(l, w);
        block.expertSlot = arch_->expertMap(l);
        if (options.moeOverride) options.moeOverride(moeIndex, block);
      }
      lap(times.blockBuild);
      MoeTrace trace;
      trace.layer = l;
      trace.moeIndex = moeIndex;
      trace.block = &block;
      trace.input = x.reshape({B * T, -1});
      trace.routerLogits = block.routerLogits(trace.input);
      trace.routing = block.route(trace.routerLogits);
      lap(times.routing);
      if (observer) observer->onMoeRouting(trace);
      lap(times.observers);
      at::Tensor routed = trace.routedOutput.defined() ? trace.routedOutput : block.combine(trace.input, trace.routing);
      trace.routedOutput = at::Tensor();  // observers read the block's output, not a part of it
      trace.output = block.addShared(trace.input, routed);
      lap(times.moeOutput);
      if (observer) observer->onMoeBlock(trace);
      lap(times.observers);
      mlp = trace.output.view({B, T, -1});
      ++moeIndex;
    } else {
      mlp = arch_->denseMlp(l, w, x);
      lap(times.denseMlp);
    }
    hidden = hidden + mlp * rs;
    for (const auto& spec : arch_->layerTensors(l)) releaseMappedPages(store_->get(spec.name));
    if (observer) {
      if (l + 1 < L) observer->onHiddenState(l + 1, hidden);
      observer->onLayerDone(l, L);
    }
  }
  if (last < L) return at::Tensor();
  if (decode) decode->advance(T);
  hidden = arch_->norm(hidden, loadTensor(arch_->finalNormName()));
  if (observer) observer->onHiddenState(L, hidden);
  if (!options.computeLogits) return at::Tensor();
  return arch_->logits(hidden, loadTensor(arch_->lmHeadName()));
}

}  // namespace moe
