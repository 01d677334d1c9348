#include "core/analysis/resume.h"

#include <filesystem>

#include "core/analysis/fingerprint.h"
#include "core/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace moe {
namespace {

// A recorded setting as a user typed it: strings bare, absent ones said so.
std::string shown(const json& v) {
  if (v.is_null()) return "(not recorded)";
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

json setting(const AnalysisInfo& i, const char* key) {
  return i.settings.is_object() && i.settings.contains(key) ? i.settings[key] : json();
}

json dimension(const AnalysisInfo& i, size_t d) {
  return i.tokenShape.size() == 2 ? json(i.tokenShape[d]) : json();
}

std::string differs(const char* option, const json& stored, const json& wanted) {
  return std::string(option) + ": the store was computed with " + shown(stored) + ", this run asks for " +
         shown(wanted);
}

}  // namespace

std::string resumeConflict(const AnalysisInfo& stored, const AnalysisInfo& wanted) {
  if (stored.modelFingerprint != wanted.modelFingerprint)
    return "the model changed since the store was computed (" +
           describeModelChange(stored.modelManifest, wanted.modelManifest) + ")";
  for (const auto& [option, key] : {std::pair{"--stat", "statistic"}, std::pair{"--dtype", "dtype"}})
    if (setting(stored, key) != setting(wanted, key)) return differs(option, setting(stored, key), setting(wanted, key));
  if (dimension(stored, 0) != dimension(wanted, 0))
    return differs("--sequences", dimension(stored, 0), dimension(wanted, 0));
  if (dimension(stored, 1) != dimension(wanted, 1)) return differs("--length", dimension(stored, 1), dimension(wanted, 1));
  if (stored.calibrationFingerprint != wanted.calibrationFingerprint) {
    std::string hint;
    for (const char* key : {"calibration", "field", "tokenizer", "random_windows", "seed"})
      if (setting(stored, key) != setting(wanted, key))
        hint += std::string(hint.empty() ? "" : ", ") + key + " " + shown(setting(stored, key)) + " -> " +
                shown(setting(wanted, key));
    return "the calibration tokens differ (same shape, other ids" + (hint.empty() ? "" : ": " + hint) + ")";
  }
  return "";
}

OpenedAnalysisStore openAnalysisStoreForRun(const std::string& path, const AnalysisInfo& wanted, bool overwrite,
                                            OnResumeConflict onConflict) {
  std::string startedOver;
  if (!overwrite && fs::exists(path)) {
    try {
      const std::string conflict = resumeConflict(AnalysisStore::open(path).info(), wanted);
      if (conflict.empty()) return {AnalysisStore::openForAppend(path), true, ""};
      if (onConflict == OnResumeConflict::Refuse)
        throw Error(ErrorKind::Stale, path + " cannot be resumed by this run: " + conflict +
                                          ". Use the same settings, another output file, or --overwrite to start over.");
      startedOver = conflict;
    } catch (const Error& e) {
      // A damaged cache entry is replaced; a damaged file the user named is reported.
      if (onConflict == OnResumeConflict::Refuse || e.kind() != ErrorKind::Format) throw;
      startedOver = e.what();
    }
  }
  const fs::path folder = fs::path(path).parent_path();
  std::error_code ec;
  if (!folder.empty() && !fs::create_directories(folder, ec) && ec)
    throw Error(ErrorKind::Io, folder.string() + ": cannot create the folder for " + path + ": " + ec.message());
  return {AnalysisStore::create(path, wanted), false, startedOver};
}

}  // namespace moe
