#pragma once
// One function per subcommand; each returns the process exit code and throws moe::Error on failure
// (caught once, in main).
#include <string>
#include <vector>

namespace moe::cli {

using Argv = std::vector<std::string>;

int cmdForward(const Argv& args);
int cmdSynth(const Argv& args);
int cmdAnalyze(const Argv& args);
int cmdCluster(const Argv& args);
int cmdBench(const Argv& args);
int cmdEval(const Argv& args);
int cmdMerge(const Argv& args);
int cmdCompare(const Argv& args);
int cmdGenerate(const Argv& args);

}  // namespace moe::cli
