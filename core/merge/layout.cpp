#include "core/merge/layout.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "core/engine/model.h"
#include "core/error.h"
#include "core/merge/plan.h"
#include "core/model/quant.h"

namespace moe {

int64_t PlannedTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t PlannedTensor::params() const {
  if (part == StoredPart::Scales) return 0;
  if (part == StoredPart::Whole) return numel();
  int64_t n = 1;
  for (int64_t d : logicalShape) n *= d;
  return n;
}

std::vector<PlannedTensor> plannedStorage(const std::string& name, const std::vector<int64_t>& shape,
                                          const TensorInfo& like, ExportPrecision precision) {
  if (!like.quantized()) return {{name, like.dtype, shape}};
  if (precision == ExportPrecision::BF16) return {{name, DType::BF16, shape}};
  PlannedTensor codes{name, like.values->dtype, shape, StoredPart::Codes, name, shape, &like};
  PlannedTensor scales{fp8ScaleName(name), like.scale->dtype, {}, StoredPart::Scales, name, shape, &like};
  if (like.quant == QuantFormat::Mxfp4) {
    codes.name = mxfp4BlocksName(name);
    codes.shape = mxfp4BlocksShape(shape);
    scales.name = mxfp4ScalesName(name);
    scales.shape = mxfp4ScalesShape(shape);
  } else {
    // A per-tensor scale keeps the source's spelling ([] or [1]).
    scales.shape = like.blockRows > 0 ? fp8ScaleShape(shape, like.blockRows, like.blockCols) : like.scale->shape;
  }
  return {codes, scales};
}

PlannedTensor storedTensor(const TensorStore& store, const std::string& storedName) {
  const std::string logical = store.logicalNameOf(storedName);
  const TensorInfo& owner = store.get(logical);
  if (!owner.quantized()) return {storedName, owner.dtype, owner.shape};
  const TensorInfo& stored = storedName == owner.values->name ? *owner.values : *owner.scale;
  return {storedName, stored.dtype, stored.shape,
          &stored == owner.values ? StoredPart::Codes : StoredPart::Scales, logical, owner.shape, &owner};
}

MoeDiskLayout MoeDiskLayout::of(const Architecture& arch, int layer) {
  MoeDiskLayout l;
  l.n_ = arch.moeDiskNames(layer);
  const std::string a = arch.name();
  if (l.n_.kind != arch.expertLayout())
    throw Error(ErrorKind::Unsupported, "merge export: architecture '" + a + "' reports a " +
                                            expertLayoutName(arch.expertLayout()) + " expert layout, but its disk " +
                                            "names of layer " + std::to_string(layer) + " are " +
                                            expertLayoutName(l.n_.kind));
  std::set<std::string> table;
  for (const auto& s : arch.layerTensors(layer)) table.insert(s.name);
  auto names = l.routerNames();
  for (const auto& n : l.expertNames(arch.numSlots(layer))) names.push_back(n);
  for (const auto& n : names)
    if (!table.count(n))
      throw Error(ErrorKind::Unsupported, "merge export: tensor '" + n + "' is not in the " + a +
                                              " tensor table of layer " + std::to_string(layer));
  return l;
}

std::vector<std::string> MoeDiskLayout::routerNames() const {
  std::vector<std::string> n{n_.router};
  if (!n_.routerBias.empty()) n.push_back(n_.routerBias);
  if (!n_.correctionBias.empty()) n.push_back(n_.correctionBias);
  return n;
}

std::vector<std::string> MoeDiskLayout::expertNames(int64_t slots) const {
  switch (n_.kind) {
    case ExpertLayout::PerExpert: {
      std::vector<std::string> n;
      for (int64_t s = 0; s < slots; ++s) {
        const std::string q = n_.experts + std::to_string(s) + ".";
        n.push_back(q + n_.gate);
        n.push_back(q + n_.up);
        n.push_back(q + n_.down);
      }
      return n;
    }
    case ExpertLayout::Packed: return {n_.inputLinear, n_.outputLinear};
    case ExpertLayout::Fused: {
      std::vector<std::string> n{n_.gateUp};
      if (!n_.gateUpBias.empty()) n.push_back(n_.gateUpBias);
      n.push_back(n_.downProj);
      if (!n_.downProjBias.empty()) n.push_back(n_.downProjBias);
      return n;
    }
  }
  return {};
}

std::vector<PlannedTensor> MoeDiskLayout::plannedRouter(const TensorStore& src, int64_t rows,
                                                        ExportPrecision precision) const {
  std::vector<PlannedTensor> out;
  for (const auto& n : routerNames()) {
    const TensorInfo& info = src.get(n);
    std::vector<int64_t> shape = info.shape;
    if (n == n_.correctionBias && n_.correctionBiasRow) shape = {1, rows};
    else shape[0] = rows;
    for (auto& t : plannedStorage(n, shape, info, precision)) out.push_back(t);
  }
  return out;
}

std::vector<PlannedTensor> MoeDiskLayout::plannedExperts(const TensorStore& src, int64_t slots,
                                                         ExportPrecision precision) const {
  std::vector<PlannedTensor> out;
  auto add = [&](const std::string& name, const TensorInfo& like, const std::vector<int64_t>& shape) {
    for (auto& t : plannedStorage(name, shape, like, precision)) out.push_back(t);
  };
  if (n_.kind == ExpertLayout::PerExpert) {
    const std::string first = n_.experts + "0.";
    const TensorInfo &g = src.get(first + n_.gate), &u = src.get(first + n_.up), &d = src.get(first + n_.down);
    for (int64_t s = 0; s < slots; ++s) {
      const std::string q = n_.experts + std::to_string(s) + ".";
      add(q + n_.gate, g, g.shape);
      add(q + n_.up, u, u.shape);
      add(q + n_.down, d, d.shape);
    }
    return out;
  }
  for (const auto& n : expertNames(slots)) {
    const TensorInfo& info = src.get(n);
    std::vector<int64_t> shape = info.shape;
    shape[0] = slots;
    add(n, info, shape);
  }
  return out;
}

int64_t MoeDiskLayout::slotOf(const std::string& name) const {
  if (n_.kind != ExpertLayout::PerExpert || name.compare(0, n_.experts.size(), n_.experts) != 0) return -1;
  const size_t dot = name.find('.', n_.experts.size());
  if (dot == std::string::npos || dot == n_.experts.size()) return -1;
  int64_t s = 0;
  for (size_t i = n_.experts.size(); i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9' || s > (int64_t{1} << 40)) return -1;
    s = s * 10 + (name[i] - '0');
  }
  return s;
}

std::string MoeDiskLayout::slotName(const std::string& name, int64_t to) const {
  if (slotOf(name) < 0) return name;
  return n_.experts + std::to_string(to) + name.substr(name.find('.', n_.experts.size()));
}

std::map<std::string, at::Tensor> MoeDiskLayout::encodeRouter(const MoeBlock& b) const {
  std::map<std::string, at::Tensor> m;
  m[n_.router] = b.routerWeight;
  if (!n_.routerBias.empty()) {
    if (!b.routerBias.defined())
      throw Error(ErrorKind::InvalidArgument, n_.routerBias + ": the block has no router bias");
    m[n_.routerBias] = b.routerBias;
  }
  if (!n_.correctionBias.empty()) {
    if (!b.correctionBias.defined())
      throw Error(ErrorKind::InvalidArgument, n_.correctionBias + ": the block has no correction bias");
    m[n_.correctionBias] = n_.correctionBiasRow ? b.correctionBias.reshape({1, -1}) : b.correctionBias;
  }
  return m;
}

std::map<std::string, at::Tensor> MoeDiskLayout::encodeExperts(const MoeBlock& b) const {
  std::map<std::string, at::Tensor> m;
  const int64_t S = b.numSlots();
  switch (n_.kind) {
    case ExpertLayout::PerExpert:
      for (int64_t s = 0; s < S; ++s) {
        const std::string q = n_.experts + std::to_string(s) + ".";
        m[q + n_.gate] = b.gate[s];
        m[q + n_.up] = b.up[s];
        m[q + n_.down] = b.down[s];
      }
      break;
    case ExpertLayout::Packed:
      m[n_.inputLinear] = at::cat({b.gate, b.up}, 1);  // [S, 2I, H]
      m[n_.outputLinear] = b.down;                      // [S, H, I]
      break;
    case ExpertLayout::Fused: {
      const bool gateUpBias = !n_.gateUpBias.empty(), downBias = !n_.downProjBias.empty();
      if ((gateUpBias && (!b.gateBias.defined() || !b.upBias.defined())) || (downBias && !b.downBias.defined()))
        throw Error(ErrorKind::InvalidArgument, n_.gateUp + ": the fused layout needs expert biases");
      const int64_t I = b.intermediateSize(), H = b.gate.size(2);
      // Rows of [S, 2I, H]: interleaved (row 2i gate row i, row 2i+1 up row i) or gate rows then up rows.
      at::Tensor gateUp = n_.fusedInterleaved ? at::stack({b.gate, b.up}, 2).reshape({S, 2 * I, H})
                                              : at::cat({b.gate, b.up}, 1);
      m[n_.gateUp] = n_.fusedInputMajor ? gateUp.transpose(1, 2) : gateUp;       // [S, H, 2I] or [S, 2I, H]
      m[n_.downProj] = n_.fusedInputMajor ? b.down.transpose(1, 2) : b.down;      // [S, I, H] or [S, H, I]
      if (gateUpBias)
        m[n_.gateUpBias] = n_.fusedInterleaved ? at::stack({b.gateBias, b.upBias}, -1).reshape({S, 2 * I})
                                               : at::cat({b.gateBias, b.upBias}, 1);
      if (downBias) m[n_.downProjBias] = b.downBias;
      break;
    }
  }
  return m;
}

void MoeDiskLayout::decodeExperts(const std::map<std::string, at::Tensor>& m, MoeBlock& b) const {
  auto get = [&](const std::string& n) {
    auto it = m.find(n);
    if (it == m.end()) throw Error(ErrorKind::MissingTensor, "decodeExperts: no tensor '" + n + "'");
    return it->second;
  };
  using at::indexing::Slice;
  const int64_t S = b.numSlots();
  switch (n_.kind) {
    case ExpertLayout::PerExpert: {
      std::vector<at::Tensor> g, u, d;
      for (int64_t s = 0; s < S; ++s) {
        const std::string q = n_.experts + std::to_string(s) + ".";
        g.push_back(get(q + n_.gate));
        u.push_back(get(q + n_.up));
        d.push_back(get(q + n_.down));
      }
      b.gate = at::stack(g);
      b.up = at::stack(u);
      b.down = at::stack(d);
      break;
    }
    case ExpertLayout::Packed: {
      const at::Tensor in = get(n_.inputLinear);
      const int64_t I = in.size(1) / 2;
      b.gate = in.narrow(1, 0, I).contiguous();
      b.up = in.narrow(1, I, I).contiguous();
      b.down = get(n_.outputLinear);
      break;
    }
    case ExpertLayout::Fused: {
      at::Tensor gateUp = get(n_.gateUp), down = get(n_.downProj);
      if (n_.fusedInputMajor) {
        gateUp = gateUp.transpose(1, 2);
        down = down.transpose(1, 2);
      }
      const int64_t I2 = gateUp.size(1), I = I2 / 2;
      const Slice gateRows = n_.fusedInterleaved ? Slice(0, I2, 2) : Slice(0, I);
      const Slice upRows = n_.fusedInterleaved ? Slice(1, I2, 2) : Slice(I, I2);
      b.gate = gateUp.index({Slice(), gateRows, Slice()}).contiguous();
      b.up = gateUp.index({Slice(), upRows, Slice()}).contiguous();
      b.down = down.contiguous();
      if (!n_.gateUpBias.empty()) {
        const at::Tensor bias = get(n_.gateUpBias);
        b.gateBias = bias.index({Slice(), gateRows}).contiguous();
        b.upBias = bias.index({Slice(), upRows}).contiguous();
      }
      if (!n_.downProjBias.empty()) b.downBias = get(n_.downProjBias);
      break;
    }
  }
}

void MoeDiskLayout::roundRouterToStored(MoeBlock& b, const TensorStore& src) const {
  auto round = [&](at::Tensor& t, const std::string& name) {
    if (name.empty() || !t.defined()) return;
    const TensorInfo& info = src.get(name);
    t = t.to(scalarTypeOf(info.quantized() ? DType::BF16 : info.dtype)).to(t.scalar_type());
  };
  round(b.routerWeight, n_.router);
  round(b.routerBias, n_.routerBias);
  round(b.correctionBias, n_.correctionBias);
}

TensorBlob tensorToBlob(const std::string& name, const at::Tensor& t, DType dtype) {
  TensorBlob blob;
  blob.name = name;
  blob.dtype = dtype;
  at::Tensor c = t.to(at::kCPU).to(scalarTypeOf(dtype)).contiguous();
  blob.shape.assign(c.sizes().begin(), c.sizes().end());
  blob.bytes.resize(static_cast<size_t>(c.numel()) * c.element_size());
  if (!blob.bytes.empty()) std::memcpy(blob.bytes.data(), c.data_ptr(), blob.bytes.size());
  return blob;
}

}  // namespace moe

namespace moe {

bool exportDropsMtp(const Model& source, const MergePlan& plan) {
  bool merged = false;
  for (const auto& lp : plan.layers) merged = merged || !lp.isIdentity();
  if (!merged) return false;
  for (const auto& name : source.store().names())
    if (source.arch().isMtpTensor(name)) return true;
  return false;
}

std::vector<OutputTensor> plannedCheckpoint(const Model& source, const MergePlan& plan, ExportPrecision precision) {
  const Architecture& arch = source.arch();
  const TensorStore& store = source.store();
  const bool compact = plan.format == ExportFormat::Compact;
  std::set<std::string> removed;
  std::vector<OutputTensor> out;
  int64_t commonK = -1;
  const bool dropMtp = exportDropsMtp(source, plan);
  for (size_t j = 0; j < source.moeLayers().size(); ++j) {
    const int layer = source.moeLayers()[j];
    const LayerPlan* lp = plan.find(static_cast<int>(j));
    const bool merged = lp && !lp->isIdentity();
    const int64_t K = merged ? lp->numGroups : arch.numExperts();
    if (compact) {
      if (commonK >= 0 && K != commonK)
        throw Error(ErrorKind::InvalidArgument,
                    "compact export: every MoE block needs the same number of experts, but block " + std::to_string(j) +
                        " has K = " + std::to_string(K) + " and an earlier block " + std::to_string(commonK) +
                        " (use the expert-map format for a different K per block)");
      commonK = K;
      if (!merged && !arch.expertMap(layer).empty())
        throw Error(ErrorKind::Unsupported, "compact export: MoE block " + std::to_string(j) +
                                                " of this expert-map checkpoint is tied but the plan leaves it "
                                                "unmerged; give it a plan entry");
    }
    if (!merged) continue;
    const MoeDiskLayout lay = MoeDiskLayout::of(arch, layer);
    for (const auto& n : lay.expertNames(arch.numSlots(layer))) removed.insert(n);
    std::vector<PlannedTensor> gen = lay.plannedExperts(store, K, precision);
    if (compact) {
      for (const auto& n : lay.routerNames()) removed.insert(n);
      auto r = lay.plannedRouter(store, K, precision);
      gen.insert(gen.begin(), r.begin(), r.end());
    }
    for (auto& t : gen) out.push_back({t, nullptr, layer, static_cast<int>(j)});
  }
  for (const auto& name : store.names()) {
    // A quantized tensor's scales and blocks go wherever the logical tensor they encode goes.
    const std::string logical = store.logicalNameOf(name);
    if (removed.count(logical)) continue;
    // An MTP block keeps the source's expert count, which would disagree with the merged config.json.
    if (dropMtp && arch.isMtpTensor(logical)) continue;
    const TensorInfo& owner = store.get(logical);
    if (owner.quantized() && precision == ExportPrecision::BF16) {
      if (name == owner.values->name)  // once per logical tensor, dequantized
        out.push_back({{logical, DType::BF16, owner.shape}, nullptr, arch.decoderLayerOf(logical), -1, &owner});
      continue;
    }
    const TensorInfo& info = name == logical ? owner : (name == owner.values->name ? *owner.values : *owner.scale);
    out.push_back({storedTensor(store, name), &info, arch.decoderLayerOf(logical), -1});
  }
  const std::string embedding = arch.embeddingName();
  auto section = [&](const OutputTensor& t) {
    if (t.layer >= 0) return 1;
    return t.tensor.name == embedding ? 0 : 2;
  };
  std::stable_sort(out.begin(), out.end(), [&](const OutputTensor& a, const OutputTensor& b) {
    const int sa = section(a), sb = section(b);
    if (sa != sb) return sa < sb;
    if (a.layer != b.layer) return a.layer < b.layer;
    return a.tensor.name < b.tensor.name;
  });
  return out;
}

}  // namespace moe
