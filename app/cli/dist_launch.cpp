#include "app/cli/dist_launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>

#include "core/error.h"

extern char** environ;

namespace moe::cli {
namespace {

// A port the kernel reports free on 127.0.0.1 (rank 0's store binds it moments later).
int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(ErrorKind::Io, std::string("--nproc: cannot open a socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) throw Error(ErrorKind::Io, std::string("--nproc: no free loopback port: ") + std::strerror(err));
  return ntohs(a.sin_port);
}

std::string selfExecutable() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error(ErrorKind::Io, "--nproc: cannot find this executable (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

bool isRendezvousVariable(const char* entry) {
  for (const char* name : {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT="})
    if (std::strncmp(entry, name, std::strlen(name)) == 0) return true;
  return false;
}

}  // namespace

int launchLocalRanks(int nproc, const std::vector<std::string>& args) {
  const std::string exe = selfExecutable();
  const int port = freeLoopbackPort();
  std::vector<std::string> baseEnv;
  for (char** e = environ; *e; ++e)
    if (!isRendezvousVariable(*e)) baseEnv.emplace_back(*e);
  baseEnv.push_back("WORLD_SIZE=" + std::to_string(nproc));
  baseEnv.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
  baseEnv.push_back("MASTER_ADDR=127.0.0.1");
  baseEnv.push_back("MASTER_PORT=" + std::to_string(port));
  std::fflush(stdout);
  std::fflush(stderr);

  const pid_t launcher = ::getpid();
  std::map<pid_t, int> running;  // pid -> rank
  auto stopAll = [&] {
    for (const auto& [pid, rank] : running) ::kill(pid, SIGTERM);
  };
  for (int rank = 0; rank < nproc; ++rank) {
    // Everything exec needs is built before fork: the child only calls async-signal-safe functions.
    std::vector<std::string> env = baseEnv;
    env.push_back("RANK=" + std::to_string(rank));
    env.push_back("LOCAL_RANK=" + std::to_string(rank));
    std::vector<char*> envp, argv;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string arg0 = exe;
    std::vector<std::string> argCopy = args;
    argv.push_back(arg0.data());
    for (auto& s : argCopy) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      stopAll();
      throw Error(ErrorKind::Io, "--nproc: cannot start rank " + std::to_string(rank) + ": " + std::strerror(errno));
    }
    if (pid == 0) {
      // Dies with the launcher (a killed launcher must not leave ranks waiting on each other).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != launcher) ::_exit(126);
      ::execve(exe.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    running[pid] = rank;
  }

  int result = 0;
  while (!running.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const int rank = it->second;
    running.erase(it);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0 && result == 0) {
      result = code;
      if (WIFEXITED(status))
        std::fprintf(stderr, "moescope-cli analyze --nproc: rank %d failed (exit code %d)", rank, code);
      else
        std::fprintf(stderr, "moescope-cli analyze --nproc: rank %d was killed by signal %d", rank, WTERMSIG(status));
      std::fprintf(stderr, "; stopping the other %zu rank(s)\n", running.size());
      stopAll();
    }
  }
  return result;
}

}  // namespace moe::cli
