#pragma once
// Does an analysis store still describe the model folder it names? The one check every opener of
// a store together with its model uses (CLI merge / compare, the explorer), so a fine-tune saved
// over the folder, a replaced shard or an edited config.json is never analysed with old statistics.
#include <string>

namespace moe {

class AnalysisStore;
class TensorStore;

// Compares the store's model manifest (fingerprint.h) with the folder's current one: `modelDir`,
// or the folder the store names when empty. Throws Stale naming what changed (config.json, a
// shard's size, layout, sampled tensor bytes or modification time, shards added or removed), Io
// when the folder no longer exists, and the model loader's Io / Format errors for an unreadable one.
void checkStoreMatchesModel(const AnalysisStore& store, const std::string& modelDir = "");
// The same with the folder's safetensors already open (no second mapping of the shards).
void checkStoreMatchesModel(const AnalysisStore& store, const std::string& modelDir, const TensorStore& tensors);

}  // namespace moe
