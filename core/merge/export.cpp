#include "core/merge/export.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/engine/model.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/merge/expert_map_modeling.h"
#include "core/merge/layout.h"
#include "core/merge/merge.h"
#include "core/model/quant_codec.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace moe {
namespace {

void writeText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorKind::Io, path.string() + ": cannot create (" + std::strerror(errno) + ")");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
  if (!out) throw Error(ErrorKind::Io, path.string() + ": write failed (disk full?)");
}

bool isInside(const fs::path& inner, const fs::path& outer) {
  auto o = outer.begin(), i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

// Every temporary export folder carries this marker (pid, host, start), so a later export to the same
// target can tell debris of a killed export from anything else named like it, and from an export
// still running.
constexpr const char* kPartialMarker = ".moescope-partial";

std::string hostName() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// Start of process `pid` in clock ticks since boot (/proc/PID/stat field 22); empty when unknown.
// Recorded beside the pid so that a recycled pid is not mistaken for the exporting process.
std::string processStartTicks(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return "";
  std::istringstream fields(stat.substr(paren + 1));
  std::string f;
  for (int i = 3; i <= 22 && fields >> f; ++i)
    if (i == 22) return f;
  return "";
}

void writePartialMarker(const fs::path& dir) {
  char started[32] = "?";
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  if (gmtime_r(&now, &utc)) std::strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &utc);
  const long pid = static_cast<long>(getpid());
  writeText(dir / kPartialMarker, json{{"pid", pid}, {"host", hostName()}, {"started", started},
                                       {"proc_start", processStartTicks(pid)}}.dump() + "\n");
}

// Removes "<target>.partial-XXXXXX" folders that hold our marker and whose process is gone (another
// host's folder, or one of a live process of this host, is left alone). Says what it did via notice.
std::vector<std::string> removeStalePartials(const fs::path& out,
                                             const std::function<void(const std::string&)>& notice) {
  std::vector<std::string> removed;
  const std::string prefix = out.filename().string() + ".partial-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(out.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0) continue;
    if (entry.is_symlink(ec) || !entry.is_directory(ec)) continue;
    if (!fs::is_regular_file(entry.path() / kPartialMarker, ec)) continue;  // not ours: left alone
    long pid = 0;
    std::string host, started, ticks;
    try {
      std::ifstream in(entry.path() / kPartialMarker);
      const json m = json::parse(in);
      pid = m.at("pid").get<long>();
      host = m.at("host").get<std::string>();
      started = m.value("started", std::string("?"));
      ticks = m.value("proc_start", std::string());
    } catch (const std::exception&) {
      continue;  // not a marker we wrote
    }
    const std::string owner = "pid " + std::to_string(pid) + " on " + host + ", started " + started;
    const bool alive = host != hostName() ||
                       (pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) &&
                        (ticks.empty() || processStartTicks(pid) == ticks));
    if (alive) {
      if (notice) notice("kept " + entry.path().string() + ": another export (" + owner + ") may still be writing it");
      continue;
    }
    std::error_code rm;
    fs::remove_all(entry.path(), rm);
    if (notice)
      notice(rm ? "could not remove stale partial export " + entry.path().string() + " (" + rm.message() + ")"
                : "removed stale partial export " + entry.path().string() + " (" + owner + "; process gone)");
    if (!rm) removed.push_back(entry.path().string());
  }
  return removed;
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Files of the source folder that travel with the weights: the tokenizer and generation files, and
// the source's own Python modules with the vocabularies they read (Kimi-K2's config.json and
// tokenizer_config.json name Moonshot's modeling and tiktoken tokenizer files in auto_map), so that the
// export loads the way the source does. MoEScope never runs them. An expert-map source's modeling file
// stays behind: a compact export must not point at it, and an expert-map export writes its own.
bool isCompanionFile(const std::string& name) {
  if (name.compare(0, 9, "tokenizer") == 0) return true;
  for (const char* n : {"generation_config.json", "special_tokens_map.json", "added_tokens.json", "chat_template.jinja",
                        "chat_template.json", "vocab.json", "merges.txt", "tiktoken.model"})
    if (name == n) return true;
  if (endsWith(name, ".tiktoken")) return true;
  return endsWith(name, ".py") && name != kExpertMapModelingFile;
}

std::string groupsText(const LayerPlan& lp) {
  std::ostringstream s;
  if (isPruneStrategy(lp.strategy)) {
    s << "kept";
    for (int64_t e : lp.kept) s << " " << e;
    return s.str();
  }
  bool firstGroup = true;
  for (const auto& m : lp.members()) {
    s << (firstGroup ? "" : " ") << "{";
    for (size_t i = 0; i < m.size(); ++i) s << (i ? "," : "") << m[i];
    s << "}";
    firstGroup = false;
  }
  return s.str();
}

std::string modelCard(const Model& src, const MergePlan& plan, const std::string& fingerprint,
                      const std::string& metrics, ExportPrecision precision) {
  const ModelConfig& c = src.config();
  std::ostringstream s;
  s << "---\ntags:\n- moe\n- expert-merging\n- moescope\n---\n\n";
  s << "# " << (plan.sourceModel.empty() ? fs::path(src.folder()).filename().string() : plan.sourceModel)
    << " — experts merged with MoEScope\n\n";
  s << "- Source model: `" << (plan.sourceModel.empty() ? src.folder() : plan.sourceModel) << "` (" << c.modelType << ", "
    << c.numExperts << " experts per MoE layer, top-" << c.topK << ")\n";
  s << "- Source model fingerprint: `" << fingerprint << "`\n";
  s << "- Calibration fingerprint: `" << (plan.calibrationFingerprint.empty() ? "n/a" : plan.calibrationFingerprint)
    << "`\n";
  s << "- Method: " << (plan.method.empty() ? "HC-SMoE expert merging" : plan.method) << "\n";
  if (plan.format == ExportFormat::Compact) {
    s << "- Format: compact — a standard " << c.modelType
      << " checkpoint with fewer experts; loads in transformers without custom code. Each group's router row is "
         "built from its members' rows (see the table).\n";
  } else {
    s << "- Format: expert-map — the original routers are kept and every original expert is mapped to its group's "
         "merged weights (config.json: `moescope_expert_map`, `moescope_expert_slots`). MoEScope loads it "
         "directly; transformers loads it with `trust_remote_code=True` through `modeling_moescope_expert_map.py` "
         "(registered in config.json's `auto_map`).\n";
  }
  s << "\n## Merged MoE layers\n\n| MoE block | decoder layer | strategy | router | E | K | groups |\n"
       "|---|---|---|---|---|---|---|\n";
  for (size_t j = 0; j < src.moeLayers().size(); ++j) {
    const LayerPlan* lp = plan.find(static_cast<int>(j));
    s << "| " << j << " | " << src.moeLayers()[j] << " | ";
    if (!lp || lp->isIdentity()) {
      s << "unmerged | - | " << c.numExperts << " | " << c.numExperts << " | - |\n";
      continue;
    }
    const bool prune = isPruneStrategy(lp->strategy);
    const bool centroidRows = lp->strategy == MergeStrategy::Ream && !isFittedRouter(lp->router);
    s << mergeStrategyName(lp->strategy) << (lp->needsAlignment() ? " (neuron-aligned)" : "") << " | "
      << (prune ? "kept rows"
          : plan.format == ExportFormat::ExpertMap ? "original"
          : centroidRows ? "centroid rows"
                         : routerModeName(lp->router))
      << " | " << lp->numExperts << " | " << lp->numGroups << " | " << groupsText(*lp) << " |\n";
  }
  s << "\nShared experts, dense layers and attention are unchanged.\n";
  if (c.quant.quantized())
    s << "\n" << (precision == ExportPrecision::BF16
                      ? "Weights are written in BF16, dequantized from the source's " + c.quant.methodName +
                            " checkpoint; config.json has no quantization_config.\n"
                      : "Weights keep the source's quantization (" + c.quant.methodName +
                            "): experts that survive unmerged are copied byte for byte, merged experts are "
                            "re-quantized in the same scheme and block size, and quantization_config is kept.\n");
  if (exportDropsMtp(src, plan))
    s << "\nThe source's multi-token-prediction (MTP) block is not included: its experts were not merged, so "
         "it would disagree with this config.json, which now declares no MTP layers. transformers never runs "
         "it; speculative decoding with it needs the source model.\n";
  s << "\n## Metrics\n\n"
    << (metrics.empty() ? "Not measured for this export.\n" : metrics + "\n");
  return s.str();
}

// A compact export of an expert-map source must not keep pointing at the expert-map modeling file.
void eraseExpertMapAutoMap(json& cfg) {
  if (!cfg.contains("auto_map") || !cfg["auto_map"].is_object()) return;
  json& m = cfg["auto_map"];
  if (m.contains("AutoModelForCausalLM") && m["AutoModelForCausalLM"].is_string() &&
      m["AutoModelForCausalLM"].get<std::string>().find(kExpertMapModelClass) != std::string::npos)
    m.erase("AutoModelForCausalLM");
  if (m.empty()) cfg.erase("auto_map");
}

json exportConfig(const Model& src, const MergePlan& plan, ExportPrecision precision) {
  json cfg = src.config().raw();
  // A BF16 export of a quantized source holds no quantized tensor any more.
  if (precision == ExportPrecision::BF16) cfg.erase("quantization_config");
  const Architecture& arch = src.arch();
  if (exportDropsMtp(src, plan)) arch.dropMtpFromConfig(cfg);
  if (plan.format == ExportFormat::Compact) {
    const std::string& key = src.config().numExpertsKey;
    if (key.empty()) throw Error(ErrorKind::Config, src.config().source() + ": no expert-count field to update");
    int64_t K = arch.numExperts();
    for (const auto& lp : plan.layers)
      if (!lp.isIdentity()) K = lp.numGroups;
    cfg[key] = K;
    const int64_t topK = std::min(arch.topK(), K);
    cfg[src.config().topKKey] = topK;
    if (cfg.contains("experts_per_token")) cfg["experts_per_token"] = topK;
    arch.rewriteCompactConfig(cfg, K);  // the architecture's own fields (DeepSeek's n_group / topk_group)
    cfg.erase("moescope_expert_map");
    cfg.erase("moescope_expert_slots");
    eraseExpertMapAutoMap(cfg);
    return cfg;
  }
  json map = cfg.contains("moescope_expert_map") && cfg["moescope_expert_map"].is_object() ? cfg["moescope_expert_map"]
                                                                                             : json::object();
  json slots = cfg.contains("moescope_expert_slots") && cfg["moescope_expert_slots"].is_object()
                   ? cfg["moescope_expert_slots"]
                   : json::object();
  for (const auto& lp : plan.layers) {
    if (lp.isIdentity()) continue;
    const std::string layer = std::to_string(src.moeLayers()[static_cast<size_t>(lp.moeIndex)]);
    map[layer] = lp.labels;
    slots[layer] = lp.numGroups;
  }
  cfg["moescope_expert_map"] = map;
  cfg["moescope_expert_slots"] = slots;
  // transformers builds the model from the modeling file written beside config.json.
  if (!cfg.contains("auto_map") || !cfg["auto_map"].is_object()) cfg["auto_map"] = json::object();
  cfg["auto_map"]["AutoModelForCausalLM"] = std::string(kExpertMapModule) + "." + kExpertMapModelClass;
  return cfg;
}

// Tensors in order, cut into shards of at most `shardBytes`; a larger tensor gets a shard of its own.
std::vector<std::vector<const OutputTensor*>> planShards(const std::vector<OutputTensor>& tensors, int64_t shardBytes) {
  std::vector<std::vector<const OutputTensor*>> shards(1);
  int64_t inShard = 0;
  for (const auto& t : tensors) {
    if (inShard > 0 && inShard + t.tensor.bytes() > shardBytes) {
      shards.emplace_back();
      inShard = 0;
    }
    shards.back().push_back(&t);
    inShard += t.tensor.bytes();
  }
  return shards;
}

// The codes and scales of one logical tensor, re-quantized for export.
struct QuantizedParts {
  at::Tensor codes;   // uint8: FP8 codes or MXFP4 blocks
  at::Tensor scales;  // the scale tensor in its stored dtype
};

// A stored tensor's bytes as a tensor of its stored dtype (codes as uint8), without a copy.
at::Tensor storedView(const TensorInfo& info) {
  const at::ScalarType type = isFloatDType(info.dtype) ? scalarTypeOf(info.dtype) : at::kByte;
  return at::from_blob(const_cast<uint8_t*>(info.data), info.shape, at::TensorOptions().dtype(type));
}

// Raw bytes of `t` under dtype `dtype` (FP8 codes have no ATen dtype: they travel as uint8).
TensorBlob rawBlob(const std::string& name, const at::Tensor& t, DType dtype) {
  TensorBlob b;
  b.name = name;
  b.dtype = dtype;
  const at::Tensor c = t.to(at::kCPU).contiguous();
  b.shape = c.sizes().vec();
  b.bytes.resize(static_cast<size_t>(c.numel()) * c.element_size());
  if (!b.bytes.empty()) std::memcpy(b.bytes.data(), c.data_ptr(), b.bytes.size());
  return b;
}

bool sameTensor(const at::Tensor& a, const at::Tensor& b) {
  return a.defined() == b.defined() && (!a.defined() || at::equal(a, b));
}

// For each slot of the merged block, the source slot whose expert it holds unchanged (weights and
// biases equal), -1 where it holds a merge: a singleton group, a kept (pruned-to) expert or a
// dominant member. Only the group's own members are compared.
std::vector<int64_t> unchangedSlots(const MoeBlock& src, const MoeBlock& merged, const LayerPlan& lp) {
  const int64_t S = merged.numSlots();
  std::vector<int64_t> out(static_cast<size_t>(S), -1);
  const auto groups = lp.members();
  if (static_cast<int64_t>(groups.size()) != S) return out;
  auto row = [](const at::Tensor& t, int64_t i) { return t.defined() ? t[i] : at::Tensor(); };
  for (int64_t s = 0; s < S; ++s) {
    for (int64_t e : groups[static_cast<size_t>(s)]) {
      const int64_t from = src.expertSlot.empty() ? e : src.expertSlot[static_cast<size_t>(e)];
      if (sameTensor(row(merged.gate, s), row(src.gate, from)) && sameTensor(row(merged.up, s), row(src.up, from)) &&
          sameTensor(row(merged.down, s), row(src.down, from)) &&
          sameTensor(row(merged.gateBias, s), row(src.gateBias, from)) &&
          sameTensor(row(merged.upBias, s), row(src.upBias, from)) &&
          sameTensor(row(merged.downBias, s), row(src.downBias, from))) {
        out[static_cast<size_t>(s)] = from;
        break;
      }
    }
  }
  return out;
}

// A merged logical tensor in the scheme of the source tensor `scheme` (its FP8 dtype and block, or
// MXFP4). Slots holding a source expert unchanged take that expert's stored codes and scales as
// they are, so an expert that survives unmerged keeps its bytes.
QuantizedParts encodeLike(const TensorStore& store, const at::Tensor& t, const std::string& logical,
                          const TensorInfo& scheme, const MoeDiskLayout& lay, const std::vector<int64_t>& unchanged) {
  QuantizedParts q;
  if (scheme.quant == QuantFormat::Fp8) {
    const Fp8Tensor f = quantizeFp8(t, scheme.values->dtype, scheme.blockRows, scheme.blockCols);
    q.codes = f.codes;
    q.scales = f.scaleInv.to(scalarTypeOf(scheme.scale->dtype));
    if (scheme.blockRows <= 0) q.scales = q.scales.reshape(scheme.scale->shape);
  } else {
    const Mxfp4Tensor m = quantizeMxfp4(t);
    q.codes = m.blocks;
    q.scales = m.scales;
  }
  const int64_t slot = lay.slotOf(logical);
  if (slot >= 0) {  // per-expert: this tensor is one slot
    if (slot < static_cast<int64_t>(unchanged.size()) && unchanged[slot] >= 0) {
      const TensorInfo& from = store.get(lay.slotName(logical, unchanged[slot]));
      if (from.quantized()) {
        q.codes = storedView(*from.values).clone();
        q.scales = storedView(*from.scale).clone();
      }
    }
    return q;
  }
  const TensorInfo& from = store.get(logical);  // stacked: slot s is row s
  if (!from.quantized()) return q;
  const at::Tensor codes = storedView(*from.values), scales = storedView(*from.scale);
  for (size_t s = 0; s < unchanged.size(); ++s) {
    if (unchanged[s] < 0) continue;
    q.codes[static_cast<int64_t>(s)].copy_(codes[unchanged[s]]);
    q.scales[static_cast<int64_t>(s)].copy_(scales[unchanged[s]]);
  }
  return q;
}

// The merged tensors of one MoE block at a time: the block is merged when its first tensor is
// asked for, and its other tensors are kept until they are written.
class MergedBlockTensors {
 public:
  MergedBlockTensors(const Model& src, const MergePlan& plan, const std::vector<OutputTensor>& tensors,
                     const ExportOptions& opt)
      : src_(src), plan_(plan), tensors_(tensors), opt_(opt),
        semantics_(plan.format == ExportFormat::Compact ? MergeSemantics::Compact : MergeSemantics::Tied) {}

  TensorBlob take(const OutputTensor& t) {
    if (cachedBlock_ != t.moeIndex) mergeBlock(t);
    auto it = cache_.find(t.tensor.name);
    TensorBlob b = std::move(it->second);
    cache_.erase(it);
    return b;
  }

 private:
  void mergeBlock(const OutputTensor& t) {
    cache_.clear();
    const Architecture& arch = src_.arch();
    const int layer = t.layer;
    Runtime fp32;  // CPU, float32: merge arithmetic independent of the session's runtime
    LayerWeights w;
    for (const auto& spec : arch.layerTensors(layer)) w.add(spec.name, tensorFromInfo(src_.store().get(spec.name), fp32));
    MoeBlock block = arch.moeBlock(layer, w);
    block.expertSlot = arch.expertMap(layer);
    const LayerPlan& lp = *plan_.find(t.moeIndex);
    const MoeBlock merged = applyLayerPlan(block, lp, semantics_, opt_.routerHook);
    const MoeDiskLayout lay = MoeDiskLayout::of(arch, layer);
    std::map<std::string, at::Tensor> enc = lay.encodeExperts(merged);
    if (semantics_ == MergeSemantics::Compact)
      for (auto& [n, v] : lay.encodeRouter(merged)) enc[n] = v;
    const std::vector<int64_t> unchanged = unchangedSlots(block, merged, lp);
    std::map<std::string, QuantizedParts> quantized;  // per logical tensor of a quantized source
    for (const auto& other : tensors_) {
      if (other.moeIndex != t.moeIndex) continue;
      const PlannedTensor& pt = other.tensor;
      const std::string& logical = pt.part == StoredPart::Whole ? pt.name : pt.logical;
      auto it = enc.find(logical);
      if (it == enc.end())
        throw Error(ErrorKind::MissingTensor, "export: the merged block did not produce '" + logical + "'");
      TensorBlob b;
      if (pt.part == StoredPart::Whole) {
        b = tensorToBlob(pt.name, it->second, pt.dtype);
      } else {
        auto q = quantized.find(logical);
        if (q == quantized.end())
          q = quantized.emplace(logical, encodeLike(src_.store(), it->second, logical, *pt.scheme, lay, unchanged)).first;
        b = rawBlob(pt.name, pt.part == StoredPart::Codes ? q->second.codes : q->second.scales, pt.dtype);
      }
      if (b.shape != pt.shape)
        throw Error(ErrorKind::Shape, "export: merged tensor '" + b.name + "' has shape " + shapeString(b.shape) +
                                          ", expected " + shapeString(other.tensor.shape));
      cache_.emplace(other.tensor.name, std::move(b));
    }
    cachedBlock_ = t.moeIndex;
  }

  const Model& src_;
  const MergePlan& plan_;
  const std::vector<OutputTensor>& tensors_;
  const ExportOptions& opt_;
  const MergeSemantics semantics_;
  int cachedBlock_ = -1;
  std::map<std::string, TensorBlob> cache_;  // re-emitted tensors of the current merged block
};

// A tensor copied unchanged from the source checkpoint.
TensorBlob sourceBlob(const OutputTensor& t) {
  TensorBlob b;
  b.name = t.tensor.name;
  b.dtype = t.source->dtype;
  b.shape = t.source->shape;
  b.bytes.assign(t.source->data, t.source->data + t.source->nbytes);
  return b;
}

void throwIfCancelled(const ExportOptions& opt) {
  if (opt.cancel && opt.cancel->load()) throw Error(ErrorKind::Cancelled, "export cancelled");
}

// What a tensor of the output is stored as, known before its bytes are produced: a source tensor
// as it is, anything else as planned.
struct StoredAs {
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t bytes;
};

StoredAs storedAs(const OutputTensor& t, const std::string& file) {
  StoredAs s{t.source ? t.source->dtype : t.tensor.dtype, t.source ? t.source->shape : t.tensor.shape, 0};
  const std::string what = file + ": tensor '" + t.tensor.name + "'";
  s.bytes = limits::checkedMul<uint64_t>(static_cast<uint64_t>(limits::checkedNumel(s.shape, what)), dtypeSize(s.dtype),
                                         what);
  return s;
}

// One shard, streamed: the header (offsets from the planned sizes, tensors sorted by name and
// "__metadata__" {"format": "pt"}, byte for byte what writeSafetensors writes) and then every
// tensor as soon as it is produced. A shard never sits in memory whole, and the cancel flag is
// checked before each tensor.
void writeShardStreamed(const fs::path& path, std::vector<const OutputTensor*> order, MergedBlockTensors& merged,
                        const ExportOptions& opt, int64_t& written, int64_t total, int64_t& reported) {
  std::sort(order.begin(), order.end(),
            [](const OutputTensor* a, const OutputTensor* b) { return a->tensor.name < b->tensor.name; });
  const std::string file = path.string();
  std::vector<StoredAs> stored;
  json header = json::object();
  header["__metadata__"] = std::map<std::string, std::string>{{"format", "pt"}};
  uint64_t offset = 0;
  for (const OutputTensor* t : order) {
    stored.push_back(storedAs(*t, file));
    const StoredAs& s = stored.back();
    header[t->tensor.name] = {{"dtype", dtypeName(s.dtype)}, {"shape", s.shape}, {"data_offsets", {offset, offset + s.bytes}}};
    offset += s.bytes;
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // keep the data region 8-byte aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorKind::Io, file + ": cannot create (" + std::strerror(errno) + ")");
  const uint64_t len = h.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  const int64_t step = std::max<int64_t>(1, total / 100);
  for (size_t i = 0; i < order.size(); ++i) {
    throwIfCancelled(opt);
    const OutputTensor& t = *order[i];
    const TensorBlob b = t.source      ? sourceBlob(t)
                         : t.dequantize ? tensorToBlob(t.tensor.name, dequantize(*t.dequantize, at::kCPU), t.tensor.dtype)
                                        : merged.take(t);
    const StoredAs& s = stored[i];
    if (b.dtype != s.dtype || b.shape != s.shape || b.bytes.size() != s.bytes)
      throw Error(ErrorKind::Shape, file + ": tensor '" + t.tensor.name + "' came out as " + dtypeName(b.dtype) + " " +
                                        shapeString(b.shape) + " (" + std::to_string(b.bytes.size()) + " bytes), planned " +
                                        dtypeName(s.dtype) + " " + shapeString(s.shape));
    out.write(reinterpret_cast<const char*>(b.bytes.data()), static_cast<std::streamsize>(b.bytes.size()));
    if (!out) throw Error(ErrorKind::Io, file + ": write failed (disk full?)");
    written += static_cast<int64_t>(b.bytes.size());
    if (opt.tensorWritten) opt.tensorWritten(t.tensor.name);
    if (opt.progress && written - reported >= step && i + 1 < order.size()) {
      reported = written;
      opt.progress(written, total);
    }
  }
  out.flush();
  if (!out) throw Error(ErrorKind::Io, file + ": write failed (disk full?)");
}

// The safetensors shards (and their index when there are several), reporting bytes as they go.
void writeShards(const std::vector<std::vector<const OutputTensor*>>& shards, MergedBlockTensors& merged,
                 const fs::path& dir, const ExportOptions& opt, ExportResult& res) {
  json weightMap = json::object();
  int64_t written = 0, reported = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    const std::string file = shards.size() == 1 ? "model.safetensors" : name;
    for (const OutputTensor* t : shards[i]) weightMap[t->tensor.name] = file;
    writeShardStreamed(dir / file, shards[i], merged, opt, written, res.tensorBytes, reported);
    res.files.push_back(file);
    reported = written;
    if (opt.progress) opt.progress(written, res.tensorBytes);
  }
  throwIfCancelled(opt);
  if (shards.size() > 1) {
    writeText(dir / "model.safetensors.index.json",
              json{{"metadata", {{"total_size", res.tensorBytes}}}, {"weight_map", weightMap}}.dump(2) + "\n");
    res.files.push_back("model.safetensors.index.json");
  }
}

// config.json, the source's tokenizer and other companion files, the expert-map modeling file and
// the model card.
void writeCompanionFiles(const Model& src, const MergePlan& plan, const fs::path& dir, const ExportOptions& opt,
                         ExportResult& res) {
  writeText(dir / "config.json", exportConfig(src, plan, opt.precision).dump(2) + "\n");
  res.files.push_back("config.json");
  for (const auto& entry : fs::directory_iterator(src.folder())) {
    const std::string n = entry.path().filename().string();
    if (!entry.is_regular_file() || !isCompanionFile(n)) continue;
    fs::copy_file(entry.path(), dir / n);
    res.files.push_back(n);
  }
  if (plan.format == ExportFormat::ExpertMap) {
    writeText(dir / kExpertMapModelingFile, expertMapModelingSource(src.config().modelType));
    res.files.push_back(kExpertMapModelingFile);
  }
  writeText(dir / "README.md", modelCard(src, plan, opt.fingerprint, opt.metricsMarkdown, opt.precision));
  res.files.push_back("README.md");
}

// Writes the whole export into `dir` (an existing empty folder).
ExportResult writeExport(const Model& src, const MergePlan& plan, const fs::path& dir, const ExportOptions& opt) {
  ExportResult res;
  const std::vector<OutputTensor> tensors = plannedCheckpoint(src, plan, opt.precision);
  for (const auto& t : tensors) res.tensorBytes += t.tensor.bytes();
  res.numTensors = static_cast<int64_t>(tensors.size());
  MergedBlockTensors merged(src, plan, tensors, opt);
  throwIfCancelled(opt);
  writeShards(planShards(tensors, opt.shardBytes), merged, dir, opt, res);
  writeCompanionFiles(src, plan, dir, opt, res);
  return res;
}

}  // namespace

MoeBlock storedMergedBlock(const Model& source, int moeIndex, const MoeBlock& sourceBlock, const MoeBlock& merged,
                           const LayerPlan& plan, MergeSemantics semantics, ExportPrecision precision) {
  const int layer = source.moeLayers().at(static_cast<size_t>(moeIndex));
  const MoeDiskLayout lay = MoeDiskLayout::of(source.arch(), layer);
  std::map<std::string, at::Tensor> enc = lay.encodeExperts(merged);
  const std::vector<int64_t> unchanged = unchangedSlots(sourceBlock, merged, plan);
  for (const PlannedTensor& p : lay.plannedExperts(source.store(), merged.numSlots(), precision)) {
    if (p.part == StoredPart::Scales) continue;
    at::Tensor& t = enc.at(p.part == StoredPart::Whole ? p.name : p.logical);
    const at::ScalarType type = t.scalar_type();
    if (p.part == StoredPart::Whole) {
      t = t.to(scalarTypeOf(p.dtype)).to(type);
      continue;
    }
    const TensorInfo& scheme = *p.scheme;
    const QuantizedParts q = encodeLike(source.store(), t, p.logical, scheme, lay, unchanged);
    t = (scheme.quant == QuantFormat::Fp8
             ? dequantizeFp8(q.codes, scheme.values->dtype, q.scales, scheme.blockRows, scheme.blockCols)
             : dequantizeMxfp4(q.codes, q.scales))
            .to(type);
  }
  MoeBlock out = merged;
  lay.decodeExperts(enc, out);
  if (semantics == MergeSemantics::Compact) lay.roundRouterToStored(out, source.store());
  return out;
}

ExportResult exportMergedModel(const Model& source, const MergePlan& plan, const std::string& target,
                               const ExportOptions& options) {
  checkPlanForModel(plan, source, options.fingerprint);
  if (options.shardBytes <= 0) throw Error(ErrorKind::InvalidArgument, "export: the shard size must be positive");
  if (target.empty()) throw Error(ErrorKind::InvalidArgument, "export: no output folder given");
  plannedCheckpoint(source, plan, options.precision);  // format constraints (one K for compact) before touching the disk

  fs::path out = fs::absolute(target).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  std::error_code ec;
  auto canonical = [](const fs::path& p) {
    std::error_code e;
    fs::path c = fs::weakly_canonical(p, e);
    return e || c.empty() ? fs::absolute(p).lexically_normal() : c;
  };
  const fs::path srcCanon = canonical(fs::absolute(source.folder()));
  const fs::path outCanon = canonical(out);
  if (isInside(outCanon, srcCanon))
    throw Error(ErrorKind::InvalidArgument, "export: " + out.string() + " lies inside the source model folder " +
                                                srcCanon.string() + "; choose an output folder outside it");
  if (fs::exists(out, ec) && !(fs::is_directory(out, ec) && fs::is_empty(out, ec)))
    throw Error(ErrorKind::InvalidArgument,
                "export: " + out.string() + " already exists and is not an empty folder; refusing to overwrite it");
  fs::create_directories(out.parent_path(), ec);
  if (ec || !fs::is_directory(out.parent_path()))
    throw Error(ErrorKind::Io, "export: cannot create the folder " + out.parent_path().string() + " (" +
                                   (ec ? ec.message() : std::string("not a folder")) + ")");

  const std::vector<std::string> removedPartials = removeStalePartials(out, options.notice);

  std::string tmpl = out.string() + ".partial-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data()))
    throw Error(ErrorKind::Io, "export: cannot create a temporary folder " + tmpl + " (" + std::strerror(errno) + ")");
  const fs::path tmp(buf.data());
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
  };
  ExportResult res;
  try {
    writePartialMarker(tmp);
    res = writeExport(source, plan, tmp, options);
    fs::remove(tmp / kPartialMarker);
    fs::permissions(tmp, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                             fs::perms::others_exec);
  } catch (const fs::filesystem_error& e) {
    cleanup();
    throw Error(ErrorKind::Io, "export: " + (e.path1().empty() ? tmp.string() : e.path1().string()) + ": " +
                                   e.code().message());
  } catch (...) {
    cleanup();
    throw;
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    cleanup();
    throw Error(ErrorKind::Io, "export: cannot move the finished export to " + out.string() + " (" + ec.message() + ")");
  }
  res.folder = out.string();
  res.removedPartials = removedPartials;
  return res;
}

}  // namespace moe
