#pragma once
// `analyze --nproc N`: the local launcher of a distributed analysis. Runs N copies of this very
// executable, each with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1 and MASTER_PORT (a
// free loopback port) in its environment, as torchrun would, and waits for all of them.
#include <string>
#include <vector>

namespace moe::cli {

// `args`: the command line of each rank after the executable ("analyze", options...). Returns 0
// when every rank succeeded; when one fails (exit status or signal), the others are terminated
// at once (they would otherwise wait for it until the collective timeout) and its exit status is
// returned. The ranks also die with the launcher (PR_SET_PDEATHSIG), so killing it stops them.
int launchLocalRanks(int nproc, const std::vector<std::string>& args);

}  // namespace moe::cli
