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
  const std::string p = arch.moePrefix(layer);
  const std::string a = arch.name();
  if (a == "mixtral" || a == "qwen2_moe" || a == "qwen3_moe" || a == "olmoe" || a == "deepseek_v3") {
    l.kind_ = ExpertLayout::PerExpert;
    l.router_ = p + "gate.weight";
    if (a == "deepseek_v3") l.correctionBias_ = p + "gate.e_score_correction_bias";
    l.experts_ = p + "experts.";
    const bool mixtral = a == "mixtral";
    l.gate_ = mixtral ? "w1.weight" : "gate_proj.weight";
    l.up_ = mixtral ? "w3.weight" : "up_proj.weight";
    l.down_ = mixtral ? "w2.weight" : "down_proj.weight";
  } else if (a == "granitemoe") {
    l.kind_ = ExpertLayout::Packed;
    l.router_ = p + "router.layer.weight";
    l.inputLinear_ = p + "input_linear.weight";
    l.outputLinear_ = p + "output_linear.weight";
  } else if (a == "gpt_oss") {
    l.kind_ = ExpertLayout::Fused;
    l.router_ = p + "router.weight";
    l.routerBias_ = p + "router.bias";
    l.gateUp_ = p + "experts.gate_up_proj";
    l.gateUpBias_ = p + "experts.gate_up_proj_bias";
    l.downProj_ = p + "experts.down_proj";
    l.downProjBias_ = p + "experts.down_proj_bias";
  } else {
    throw Error(ErrorKind::Unsupported, "merge export: the on-disk MoE layout of architecture '" + a + "' is not known");
  }
  if (l.kind_ != arch.expertLayout())
    throw Error(ErrorKind::Unsupported, "merge export: architecture '" + a + "' reports a " +
                                            expertLayoutName(arch.expertLayout()) + " expert layout, expected " +
                                            expertLayoutName(l.kind_));
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
  std::vector<std::string> n{router_};
  if (!routerBias_.empty()) n.push_back(routerBias_);
  if (!correctionBias_.empty()) n.push_back(correctionBias_);
  return n;
}

std::vector<std::string> MoeDiskLayout::expertNames(int64_t slots) const {
  switch (kind_) {
    case ExpertLayout::PerExpert: {
      std::vector<std::string> n;
      for (int64_t s = 0; s < slots; ++s) {
        const std::string q = experts_ + std::to_string(s) + ".";
        n.push_back(q + gate_);
        n.push_back(q + up_);
        n.push_back(q + down_);
      }
      return n;
    }
    case ExpertLayout::Packed: return {inputLinear_, outputLinear_};
    case ExpertLayout::Fused: return {gateUp_, gateUpBias_, downProj_, downProjBias_};
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
  if (kind_ == ExpertLayout::PerExpert) {
    const std::string first = experts_ + "0.";
    const TensorInfo &g = src.get(first + gate_), &u = src.get(first + up_), &d = src.get(first + down_);
    for (int64_t s = 0; s < slots; ++s) {
      const std::string q = experts_ + std::to_string(s) + ".";
      out.push_back({q + gate_, g.dtype, g.shape});
      out.push_back({q + up_, u.dtype, u.shape});
      out.push_back({q + down_, d.dtype, d.shape});
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
  m[router_] = b.routerWeight;
  if (!routerBias_.empty()) {
    if (!b.routerBias.defined()) throw Error(ErrorKind::InvalidArgument, routerBias_ + ": the block has no router bias");
    m[routerBias_] = b.routerBias;
  }
  if (!correctionBias_.empty()) {
    if (!b.correctionBias.defined())
      throw Error(ErrorKind::InvalidArgument, correctionBias_ + ": the block has no correction bias");
    m[correctionBias_] = b.correctionBias;
  }
  return m;
}

std::map<std::string, at::Tensor> MoeDiskLayout::encodeExperts(const MoeBlock& b) const {
  std::map<std::string, at::Tensor> m;
  const int64_t S = b.numSlots();
  switch (kind_) {
    case ExpertLayout::PerExpert:
      for (int64_t s = 0; s < S; ++s) {
        const std::string q = experts_ + std::to_string(s) + ".";
        m[q + gate_] = b.gate[s];
        m[q + up_] = b.up[s];
        m[q + down_] = b.down[s];
      }
      break;
    case ExpertLayout::Packed:
      m[inputLinear_] = at::cat({b.gate, b.up}, 1);  // [S, 2I, H]
      m[outputLinear_] = b.down;                      // [S, H, I]
      break;
    case ExpertLayout::Fused: {
      if (!b.gateBias.defined() || !b.upBias.defined() || !b.downBias.defined())
        throw Error(ErrorKind::InvalidArgument, gateUp_ + ": the fused layout needs expert biases");
      const int64_t I = b.intermediateSize(), H = b.gate.size(2);
      // Interleave: column 2i is gate row i, column 2i+1 is up row i.
      m[gateUp_] = at::stack({b.gate.transpose(1, 2), b.up.transpose(1, 2)}, -1).reshape({S, H, 2 * I});
      m[gateUpBias_] = at::stack({b.gateBias, b.upBias}, -1).reshape({S, 2 * I});
      m[downProj_] = b.down.transpose(1, 2);  // [S, I, H]
      m[downProjBias_] = b.downBias;
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
