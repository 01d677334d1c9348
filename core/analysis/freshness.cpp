#include "core/analysis/freshness.h"

#include <filesystem>

#include "core/analysis/fingerprint.h"
#include "core/analysis/store.h"
#include "core/error.h"
#include "core/model/safetensors.h"

namespace fs = std::filesystem;

namespace moe {

void checkStoreMatchesModel(const AnalysisStore& store, const std::string& modelDir, const TensorStore& tensors) {
  const std::string dir = modelDir.empty() ? store.info().modelDir : modelDir;
  const nlohmann::json now = modelManifest(dir, tensors);
  if (manifestFingerprint(now) == store.info().modelFingerprint) return;
  throw Error(ErrorKind::Stale, store.path() + " no longer matches the model in " + dir + ": " +
                                    describeModelChange(store.info().modelManifest, now) +
                                    ". Run the analysis again on the current model.");
}

void checkStoreMatchesModel(const AnalysisStore& store, const std::string& modelDir) {
  const std::string dir = modelDir.empty() ? store.info().modelDir : modelDir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(ErrorKind::Io, store.path() + " was computed from the model in " + dir +
                                   ", which no longer exists (moved or deleted); open the model from its new place");
  const auto tensors = TensorStore::openFolder(dir);
  checkStoreMatchesModel(store, dir, *tensors);
}

}  // namespace moe
