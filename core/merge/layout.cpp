#include "core/merge/layout.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "core/engine/model.h"
#include "core/error.h"
#include "core/merge/plan.h"

namespace moe {

int64_t PlannedTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
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
    case ExpertLayout::Fused: return {n_.gateUp, n_.gateUpBias, n_.downProj, n_.downProjBias};
  }
  return {};
}

std::vector<PlannedTensor> MoeDiskLayout::plannedRouter(const TensorStore& src, int64_t rows) const {
  std::vector<PlannedTensor> out;
  for (const auto& n : routerNames()) {
    const TensorInfo& info = src.get(n);
    PlannedTensor t{n, info.dtype, info.shape};
    t.shape[0] = rows;
    out.push_back(t);
  }
  return out;
}

std::vector<PlannedTensor> MoeDiskLayout::plannedExperts(const TensorStore& src, int64_t slots) const {
  std::vector<PlannedTensor> out;
  if (n_.kind == ExpertLayout::PerExpert) {
    const std::string first = n_.experts + "0.";
    const TensorInfo &g = src.get(first + n_.gate), &u = src.get(first + n_.up), &d = src.get(first + n_.down);
    for (int64_t s = 0; s < slots; ++s) {
      const std::string q = n_.experts + std::to_string(s) + ".";
      out.push_back({q + n_.gate, g.dtype, g.shape});
      out.push_back({q + n_.up, u.dtype, u.shape});
      out.push_back({q + n_.down, d.dtype, d.shape});
    }
    return out;
  }
  for (const auto& n : expertNames(slots)) {
    const TensorInfo& info = src.get(n);
    PlannedTensor t{n, info.dtype, info.shape};
    t.shape[0] = slots;
    out.push_back(t);
  }
  return out;
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
    m[n_.correctionBias] = b.correctionBias;
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
      if (!b.gateBias.defined() || !b.upBias.defined() || !b.downBias.defined())
        throw Error(ErrorKind::InvalidArgument, n_.gateUp + ": the fused layout needs expert biases");
      const int64_t I = b.intermediateSize(), H = b.gate.size(2);
      // Interleave: column 2i is gate row i, column 2i+1 is up row i.
      m[n_.gateUp] = at::stack({b.gate.transpose(1, 2), b.up.transpose(1, 2)}, -1).reshape({S, H, 2 * I});
      m[n_.gateUpBias] = at::stack({b.gateBias, b.upBias}, -1).reshape({S, 2 * I});
      m[n_.downProj] = b.down.transpose(1, 2);  // [S, I, H]
      m[n_.downProjBias] = b.downBias;
      break;
    }
  }
  return m;
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

int decoderLayerOf(const std::string& name) {
  static const std::string kPrefix = "model.layers.";
  if (name.compare(0, kPrefix.size(), kPrefix) != 0) return -1;
  size_t i = kPrefix.size();
  int n = 0;
  bool digits = false;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') {
    n = n * 10 + (name[i] - '0');
    digits = true;
    ++i;
  }
  return digits && i < name.size() && name[i] == '.' ? n : -1;
}

std::vector<OutputTensor> plannedCheckpoint(const Model& source, const MergePlan& plan) {
  const Architecture& arch = source.arch();
  const TensorStore& store = source.store();
  const bool compact = plan.format == ExportFormat::Compact;
  std::set<std::string> removed;
  std::vector<OutputTensor> out;
  int64_t commonK = -1;
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
    std::vector<PlannedTensor> gen = lay.plannedExperts(store, K);
    if (compact) {
      for (const auto& n : lay.routerNames()) removed.insert(n);
      auto r = lay.plannedRouter(store, K);
      gen.insert(gen.begin(), r.begin(), r.end());
    }
    for (auto& t : gen) out.push_back({t, nullptr, layer, static_cast<int>(j)});
  }
  for (const auto& name : store.names()) {
    if (removed.count(name)) continue;
    const TensorInfo& info = store.get(name);
    out.push_back({{name, info.dtype, info.shape}, &info, decoderLayerOf(name), -1});
  }
  auto section = [](const OutputTensor& t) {
    if (t.layer >= 0) return 1;
    return t.tensor.name.compare(0, 19, "model.embed_tokens.") == 0 ? 0 : 2;
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
