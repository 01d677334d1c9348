#include "core/arch/architecture.h"

#include "core/error.h"
#include "core/model/quant_codec.h"

namespace moe {

at::ScalarType scalarTypeOf(DType dtype) {
  switch (dtype) {
    case DType::BF16: return at::kBFloat16;
    case DType::F16: return at::kHalf;
    case DType::F32: return at::kFloat;
    case DType::U8: return at::kByte;
    case DType::F8_E4M3:
    case DType::F8_E5M2: break;  // no float8 in libtorch 1.13: decoded by core/model/quant_codec.h
  }
  throw Error(ErrorKind::Unsupported, std::string("tensors of dtype ") + dtypeName(dtype) +
                                          " are read only through their quantization scheme");
}

namespace {
// A tensor's values where they are: decoded on the device (a quantized tensor, float32), the staged
// copy of its bytes, or, with *mapped set, the mapped bytes themselves (no copy; valid while the
// store's mapping lives, and never to be written).
at::Tensor storedValues(const TensorInfo& info, const at::Device& device, const StagedBytes* staged, bool* mapped) {
  *mapped = false;
  if (info.quantized()) return dequantize(info, device, staged);
  if (staged)
    if (at::Tensor copy = staged->view(info, scalarTypeOf(info.dtype)); copy.defined()) return copy;
  *mapped = true;
  return at::from_blob(const_cast<uint8_t*>(info.data), info.shape, at::TensorOptions().dtype(scalarTypeOf(info.dtype)));
}
}  // namespace

at::Tensor tensorFromInfo(const TensorInfo& info, const Runtime& rt, const StagedBytes* staged) {
  // Decoded values and a staged copy are the layer's own (used once, dropped with it): cast where
  // needed. The mapping is copied.
  bool mapped = false;
  const at::Tensor values = storedValues(info, rt.device, staged, &mapped);
  return mapped ? values.to(rt.device, rt.dtype, /*non_blocking=*/false, /*copy=*/true) : values.to(rt.dtype);
}

bool LayerWeights::has(const std::string& name) const {
  return tensors_->count(name) > 0 || (store_ && store_->has(name));
}

const at::Tensor& LayerWeights::get(const std::string& name) const {
  auto it = tensors_->find(name);
  if (it != tensors_->end()) return it->second;
  if (!store_) throw Error(ErrorKind::MissingTensor, "tensor '" + name + "' was not loaded for this layer");
  return (*tensors_)[name] = tensorFromInfo(store_->get(name), rt_, staged_.get());
}

at::Tensor LayerWeights::getFloat32(const std::string& name) const {
  if (rt_.dtype == at::kFloat) return get(name);
  if (auto it = tensors_->find(name); it != tensors_->end() || !store_) return get(name).to(at::kFloat);
  Runtime fp32 = rt_;
  fp32.dtype = at::kFloat;
  return tensorFromInfo(store_->get(name), fp32, staged_.get());
}

at::Tensor LayerWeights::stack(const std::vector<std::string>& names) const {
  if (names.empty()) throw Error(ErrorKind::InvalidArgument, "nothing to stack");
  auto shapeOf = [&](const std::string& n) {
    auto it = tensors_->find(n);
    return it != tensors_->end() ? it->second.sizes().vec() : store_->get(n).shape;
  };
  std::vector<int64_t> shape = shapeOf(names.front());
  std::vector<int64_t> stacked{static_cast<int64_t>(names.size())};
  stacked.insert(stacked.end(), shape.begin(), shape.end());
  at::Tensor out = pool_ ? pool_->take(stacked, rt_.options()) : at::empty(stacked, rt_.options());
  for (size_t i = 0; i < names.size(); ++i) {
    if (shapeOf(names[i]) != shape)
      throw Error(ErrorKind::Shape, "tensor '" + names[i] + "' has shape " + shapeString(shapeOf(names[i])) +
                                        ", expected " + shapeString(shape) + " like '" + names.front() + "'");
    auto it = tensors_->find(names[i]);
    if (it != tensors_->end()) {
      out[static_cast<int64_t>(i)].copy_(it->second);
      continue;
    }
    bool mapped = false;
    out[static_cast<int64_t>(i)].copy_(storedValues(store_->get(names[i]), rt_.device, staged_.get(), &mapped));
  }
  return out;
}

int64_t LayerWeights::bytes() const {
  int64_t n = 0;
  for (auto& [_, t] : *tensors_) n += t.numel() * static_cast<int64_t>(t.element_size());
  return n;
}

const char* expertLayoutName(ExpertLayout layout) {
  switch (layout) {
    case ExpertLayout::PerExpert: return "per-expert";
    case ExpertLayout::Packed: return "packed";
    case ExpertLayout::Fused: return "fused";
  }
  return "?";
}

int64_t Architecture::numSlots(int layer) const {
  const auto& raw = cfg_.raw();
  const std::string key = std::to_string(layer);
  if (raw.contains("moescope_expert_slots") && raw["moescope_expert_slots"].is_object() &&
      raw["moescope_expert_slots"].contains(key)) {
    const auto& v = raw["moescope_expert_slots"][key];
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > numExperts())
      throw Error(ErrorKind::Config, cfg_.source() + ": moescope_expert_slots[" + key + "] must be an integer in [1, " +
                                         std::to_string(numExperts()) + "], got " + v.dump());
    return v.get<int64_t>();
  }
  return numExperts();
}

std::vector<int64_t> Architecture::expertMap(int layer) const {
  const auto& raw = cfg_.raw();
  const std::string key = std::to_string(layer);
  std::vector<int64_t> map;
  if (!raw.contains("moescope_expert_map") || !raw["moescope_expert_map"].is_object() ||
      !raw["moescope_expert_map"].contains(key))
    return map;
  const auto& v = raw["moescope_expert_map"][key];
  const int64_t slots = numSlots(layer);
  const std::string where = cfg_.source() + ": moescope_expert_map[" + key + "]";
  if (!v.is_array() || static_cast<int64_t>(v.size()) != numExperts())
    throw Error(ErrorKind::Config, where + " must list one slot for each of the " + std::to_string(numExperts()) + " experts");
  for (const auto& e : v) {
    if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() >= slots)
      throw Error(ErrorKind::Config, where + " holds " + e.dump() + ", outside the " + std::to_string(slots) + " stored slots");
    map.push_back(e.get<int64_t>());
  }
  return map;
}

void validateRouting(const Architecture& arch) {
  const ModelConfig& c = arch.config();
  int64_t firstMoe = -1;
  for (int64_t l = 0; l < c.numLayers && firstMoe < 0; ++l)  // numLayers is bounded by the config reader
    if (arch.isMoeLayer(static_cast<int>(l))) firstMoe = l;
  if (firstMoe < 0) return;  // a dense model routes nothing
  const std::string where = c.source() + ": layer " + std::to_string(firstMoe) + " is a MoE layer, but ";
  const std::string expertsKey = c.numExpertsKey.empty() ? "num_local_experts / num_experts / n_routed_experts"
                                                         : c.numExpertsKey;
  if (c.numExperts < 1)
    throw Error(ErrorKind::Config, where + expertsKey + " is missing or below 1 (the expert count must be at least 1)");
  if (!c.has(c.topKKey))
    throw Error(ErrorKind::Config, where + c.topKKey + " is missing (expected an integer in [1, " +
                                       std::to_string(c.numExperts) + "])");
  if (c.topK < 1 || c.topK > c.numExperts)
    throw Error(ErrorKind::Config, where + c.topKKey + " is " + std::to_string(c.topK) +
                                       ", expected an integer in [1, " + expertsKey + " = " +
                                       std::to_string(c.numExperts) + "]");
}

std::vector<TensorSpec> Architecture::globalTensors() const {
  const int64_t V = cfg_.vocabSize, H = cfg_.hiddenSize;
  std::vector<TensorSpec> specs{{embeddingName(), {V, H}}, {finalNormName(), {H}}};
  if (!cfg_.tieWordEmbeddings) specs.push_back({lmHeadName(), {V, H}});
  return specs;
}

std::string Architecture::lmHeadName() const {
  return cfg_.tieWordEmbeddings ? embeddingName() : "lm_head.weight";
}

int Architecture::decoderLayerOf(const std::string& name) const {
  const std::string prefix = modelPrefix() + "layers.";
  if (name.compare(0, prefix.size(), prefix) != 0) return -1;
  size_t i = prefix.size();
  int64_t n = 0;
  bool digits = false;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && n < (int64_t{1} << 30)) {
    n = n * 10 + (name[i] - '0');
    digits = true;
    ++i;
  }
  return digits && i < name.size() && name[i] == '.' ? static_cast<int>(n) : -1;
}

at::Tensor Architecture::norm(const at::Tensor& x, const at::Tensor& weight) const {
  return rmsNorm(x, weight, cfg_.rmsNormEps);
}

at::Tensor Architecture::embed(const at::Tensor& ids, const at::Tensor& table) const {
  return table.index_select(0, ids.reshape(-1)).view({ids.size(0), ids.size(1), table.size(1)});
}

at::Tensor Architecture::denseMlp(int layer, const LayerWeights& w, const at::Tensor& x) const {
  const std::string p = layerPrefix(layer) + "mlp.";
  return swigluMlp(x, w.get(p + "gate_proj.weight"), w.get(p + "up_proj.weight"), w.get(p + "down_proj.weight"));
}

at::Tensor Architecture::logits(const at::Tensor& normedHidden, const at::Tensor& lmHead) const {
  return dense(normedHidden, lmHead);
}

void Architecture::addNorms(std::vector<TensorSpec>& specs, int layer) const {
  specs.push_back({inputNormName(layer), {cfg_.hiddenSize}});
  specs.push_back({postAttentionNormName(layer), {cfg_.hiddenSize}});
}

void Architecture::addDenseMlp(std::vector<TensorSpec>& specs, const std::string& p, int64_t I) const {
  const int64_t H = cfg_.hiddenSize;
  specs.push_back({p + "gate_proj.weight", {I, H}});
  specs.push_back({p + "up_proj.weight", {I, H}});
  specs.push_back({p + "down_proj.weight", {H, I}});
}

void Architecture::addPerExpert(std::vector<TensorSpec>& specs, const std::string& p, int64_t E, int64_t I,
                                const char* gate, const char* up, const char* down) const {
  const int64_t H = cfg_.hiddenSize;
  for (int64_t e = 0; e < E; ++e) {
    const std::string q = p + std::to_string(e) + ".";
    specs.push_back({q + gate + ".weight", {I, H}});
    specs.push_back({q + up + ".weight", {I, H}});
    specs.push_back({q + down + ".weight", {H, I}});
  }
}

MoeDiskNames Architecture::perExpertDiskNames(const std::string& routerName, const std::string& expertsPrefix,
                                              const char* gate, const char* up, const char* down) {
  MoeDiskNames n;
  n.kind = ExpertLayout::PerExpert;
  n.router = routerName;
  n.experts = expertsPrefix;
  n.gate = std::string(gate) + ".weight";
  n.up = std::string(up) + ".weight";
  n.down = std::string(down) + ".weight";
  return n;
}

MoeDiskNames Architecture::fusedDiskNames(const std::string& routerName, const std::string& gateUp,
                                          const std::string& down, bool interleaved, bool inputMajor,
                                          const std::string& gateUpBias, const std::string& downBias) {
  MoeDiskNames n;
  n.kind = ExpertLayout::Fused;
  n.router = routerName;
  n.gateUp = gateUp;
  n.gateUpBias = gateUpBias;
  n.downProj = down;
  n.downProjBias = downBias;
  n.fusedInterleaved = interleaved;
  n.fusedInputMajor = inputMajor;
  return n;
}

void Architecture::unpackFused(MoeBlock& b, const LayerWeights& w, const MoeDiskNames& n) const {
  using at::indexing::Slice;
  at::Tensor gateUp = w.get(n.gateUp);  // [S, H, 2I] input-major, else [S, 2I, H]
  at::Tensor down = w.get(n.downProj);  // [S, I, H] input-major, else [S, H, I]
  if (n.fusedInputMajor) {
    gateUp = gateUp.transpose(1, 2);
    down = down.transpose(1, 2);
  }
  const int64_t I2 = gateUp.size(1), I = I2 / 2;
  // Rows of gateUp ([S, 2I, H]) now: gate/up interleaved or concatenated.
  const Slice gateRows = n.fusedInterleaved ? Slice(0, I2, 2) : Slice(0, I);
  const Slice upRows = n.fusedInterleaved ? Slice(1, I2, 2) : Slice(I, I2);
  b.gate = gateUp.index({Slice(), gateRows, Slice()}).contiguous();
  b.up = gateUp.index({Slice(), upRows, Slice()}).contiguous();
  b.down = down.contiguous();
  if (!n.gateUpBias.empty()) {
    const at::Tensor& bias = w.get(n.gateUpBias);  // [S, 2I]
    b.gateBias = bias.index({Slice(), gateRows}).contiguous();
    b.upBias = bias.index({Slice(), upRows}).contiguous();
  }
  if (!n.downProjBias.empty()) b.downBias = w.get(n.downProjBias);
}

void Architecture::stackPerExpert(MoeBlock& block, const LayerWeights& w, const std::string& p, int64_t E,
                                  const char* gate, const char* up, const char* down) const {
  auto names = [&](const char* kind) {
    std::vector<std::string> n;
    for (int64_t e = 0; e < E; ++e) n.push_back(p + std::to_string(e) + "." + kind + ".weight");
    return n;
  };
  block.gate = w.stack(names(gate));
  block.up = w.stack(names(up));
  block.down = w.stack(names(down));
}

}  // namespace moe
