// What the original model and a plan's merge write from the same prompts, side by side, and where
// the merged continuations first leave the original's.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "app/cli/analysis_source.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/analysis/fingerprint.h"
#include "core/engine/token_source.h"
#include "core/error.h"
#include "core/eval/generation_preview.h"
#include "core/merge/merge.h"
#include "core/merge/router_hooks.h"
#include "core/text/tokenizer.h"

namespace moe::cli {
namespace {

// One line of text: newlines shown as the two characters \n, so a continuation stays on its row.
std::string oneLine(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

std::string idList(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

// Token ids of a --ids prompt: integers separated by spaces or commas.
std::vector<int64_t> parseIds(const std::string& text, const std::string& what) {
  std::vector<int64_t> ids;
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) return;
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(cur, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != cur.size()) throw Error(ErrorKind::InvalidArgument, what + ": '" + cur + "' is not a token id");
    ids.push_back(v);
    cur.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == ',' || c == '\n' || c == '\t' || c == '\r') flush();
    else cur += c;
  }
  flush();
  return ids;
}

// "tied,compact" -> its names, each one of `accepted`.
std::vector<std::string> parseForms(const std::string& list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    const std::string name = list.substr(pos, comma - pos);
    if (name != "tied" && name != "compact")
      throw Error(ErrorKind::InvalidArgument, "--forms: '" + name + "' is not one of tied, compact");
    out.push_back(name);
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int cmdGenerate(const Argv& argv) {
  Args args(argv,
            withPlanOptions({"model", "prompt", "prompts", "max-new-tokens", "temperature", "top-p", "sample-seed",
                             "scmoe-beta", "scmoe-alpha", "weak-top-k", "weak-rank", "forms", "batch", "resident",
                             "tokenizer", "device", "dtype", "threads"}),
            withPlanFlags({"no-cache", "scmoe", "ids", "original-only"}));
  initThreads(static_cast<int>(args.getInt("threads", 0)));
  args.refuse({"format"}, "with generate (--forms chooses the tied and compact forms it decodes)");
  if (args.has("prompt") == args.has("prompts"))
    throw Error(ErrorKind::InvalidArgument, "give exactly one of --prompt TEXT and --prompts FILE");
  GenerateOptions o;
  o.maxNewTokens = args.getInt("max-new-tokens", 32, 1, 1 << 20);
  o.temperature = args.getNumber("temperature", 0.0);
  o.topP = args.getNumber("top-p", 1.0);
  o.seed = static_cast<uint64_t>(args.getInt("sample-seed", 0));
  o.batchSize = args.getInt("batch", 8, 1, 4096);
  o.useCache = !args.has("no-cache");
  if (args.has("scmoe") || args.has("scmoe-beta") || args.has("scmoe-alpha") || args.has("weak-top-k") ||
      args.has("weak-rank")) {
    o.scmoe.enabled = true;
    o.scmoe.beta = args.getNumber("scmoe-beta", 0.5);
    o.scmoe.alpha = args.getNumber("scmoe-alpha", 0.1);
    if (args.has("weak-top-k") && args.has("weak-rank"))
      throw Error(ErrorKind::InvalidArgument, "give one weak routing: --weak-top-k K or --weak-rank R");
    o.scmoe.weakTopK = args.getInt("weak-top-k", 1);
    o.scmoe.weakRank = args.getInt("weak-rank", 0);
    if (args.has("weak-rank") && o.scmoe.weakRank < 1)
      throw Error(ErrorKind::InvalidArgument, "--weak-rank must be at least 1");
  }

  const Runtime rt = Runtime::make(args.get("device", "auto"), args.get("dtype", "fp32"));
  auto model = Model::open(args.get("model"), rt);
  const std::string resident = args.choice("resident", "auto", {"auto", "on", "off"});
  // auto: resident when the weights take at most half of the machine's free memory.
  model->setResident(resident == "on" || (resident == "auto" && residentFits(*model)));

  // Prompts: text through the model's tokenizer, or (--ids) whitespace-separated token ids.
  const std::string tokPath = args.get("tokenizer", (std::filesystem::path(model->folder()) / "tokenizer.json").string());
  std::optional<Tokenizer> tokenizer;
  if (!args.has("ids") || std::filesystem::exists(tokPath)) tokenizer = Tokenizer::fromFile(tokPath);
  const std::vector<std::string> texts =
      args.has("prompt") ? std::vector<std::string>{args.get("prompt")} : readPrompts(args.get("prompts"), args.get("field", "text"));
  std::vector<std::vector<int64_t>> prompts;
  if (args.has("ids")) {
    for (size_t i = 0; i < texts.size(); ++i) {
      prompts.push_back(parseIds(texts[i], "prompt " + std::to_string(i + 1)));
    }
  } else {
    prompts = tokenizePrompts(*tokenizer, texts);
  }
  if (tokenizer) o.stopIds = {static_cast<int64_t>(endOfTextId(model->folder(), *tokenizer))};

  std::vector<PreviewVariant> variants{{"original", {}}};
  MergePlan plan;
  at::Tensor calibIds;
  const bool merged = !args.has("original-only");
  if (!merged) {
    args.refuse({"plan", "experts", "budget", "height", "forms"}, "with --original-only");
  } else {
    if (!args.has("plan") && !args.has("experts") && !args.has("budget") && !args.has("height"))
      throw Error(ErrorKind::InvalidArgument,
                  "give a plan (--plan P.json, or --analysis A.h5 / --calib FILE with --experts K, --budget TOTAL or "
                  "--height H), or --original-only");
    validateGenerateRequest(*model, prompts, o);  // before a plan's analysis or router fit runs
    plan = planFromArgs(*model, args, calibIds);
    checkPlanForModel(plan, *model, modelFingerprint(model->folder(), model->store()));
    alignPlanFromArgs(plan, *model, calibIds, args);
    for (const std::string& form : parseForms(args.get("forms", "tied,compact"))) {
      if (form == "tied") {
        variants.push_back({"merged (tied)", planOverride(plan, MergeSemantics::Tied)});
      } else {
        CompactRouterHook hook;
        if (routerModesNeedCalibration(plan)) {
          if (!calibIds.defined()) calibIds = loadCalibrationIds(*model, args);
          hook = makeCompactRouterHook(*model, calibIds, plan, routerFitOptionsFromArgs(args));
        }
        variants.push_back({"merged (compact)", planOverride(plan, MergeSemantics::Compact, hook)});
      }
    }
  }

  std::fprintf(stderr, "generating %lld new tokens for %zu prompts with %zu models (%s, %s)\n",
               static_cast<long long>(o.maxNewTokens), prompts.size(), variants.size(),
               model->arch().supportsKvCache() && o.useCache ? "KV cache" : "recomputed without cache",
               model->resident() ? "resident" : "layer-streamed");
  PreviewCallbacks cb;
  ProgressLine line;
  cb.onStep = [&](size_t v, int64_t done, int64_t total) {
    line.update(variants[v].name + ": " + std::to_string(done) + " / " + std::to_string(total) + " tokens");
    if (done == total) line.finish();
  };
  const std::vector<PreviewResult> results = generationPreview(*model, prompts, o, variants, cb);
  line.finish();

  auto show = [&](const std::vector<int64_t>& ids) {
    return tokenizer && !args.has("ids") ? "\"" + oneLine(tokenizer->decode(std::vector<TokenId>(ids.begin(), ids.end()))) + "\""
                                         : idList(ids);
  };
  for (size_t p = 0; p < prompts.size(); ++p) {
    std::printf("=== prompt %zu: %s\n", p + 1, args.has("ids") ? idList(prompts[p]).c_str() : ("\"" + oneLine(texts[p]) + "\"").c_str());
    for (const PreviewResult& r : results) {
      const Continuation& c = r.continuations[p];
      std::string note;
      if (&r != &results.front())
        note = r.firstDivergence[p] < 0 ? "  [same as the original]"
                                        : "  [differs from token " + std::to_string(r.firstDivergence[p] + 1) + "]";
      std::printf("%-18s %s%s%s\n", r.name.c_str(), show(c.tokens).c_str(), c.stopped ? " <EOS>" : "", note.c_str());
    }
  }
  std::printf("\n%-18s %14s %9s %10s %12s\n", "model", "same prefix", "ROUGE-L", "tokens/s", "prefill s");
  for (const PreviewResult& r : results) {
    const double tps = r.stats.decodeSeconds > 0 ? static_cast<double>(r.stats.newTokens) / (r.stats.decodeSeconds + r.stats.prefillSeconds) : 0;
    std::printf("%-18s %14.1f %9.3f %10.2f %12.2f\n", r.name.c_str(), r.agreement.meanIdenticalPrefix, r.agreement.meanRougeL,
                tps, r.stats.prefillSeconds);
  }
  return 0;
}

}  // namespace moe::cli
