#pragma once
// Runs the built moescope-cli as a child process for the CLI tests: exit code, stdout and stderr,
// or a background process that a test can watch and kill. No shell in between.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace moe::test {

struct CliResult {
  int code = -1;  // exit status; 128 + signal when killed by one
  std::string out, err;
};

// MOESCOPE_CLI from the environment (to run the tests against another build), else the path CMake
// compiled in.
std::string cliPath();

// A fresh folder under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A CLI process running in the background; its output goes to files the test can read while it runs.
class CliProcess {
 public:
  CliProcess(const std::vector<std::string>& args, const std::filesystem::path& logDir);
  ~CliProcess();  // kills it if still running
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;
  pid_t pid() const { return pid_; }
  std::string out() const;
  std::string err() const;
  bool running();                  // false once it has exited (reaped)
  void kill9();                    // SIGKILL, then reaped
  int wait(double timeoutSeconds);  // exit code (killed with SIGKILL when over time: 128 + 9)

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::filesystem::path outFile_, errFile_;
};

// Runs `moescope-cli args...` to completion (killed after timeoutSeconds).
CliResult runCli(const std::vector<std::string>& args, double timeoutSeconds = 120);

std::string readFile(const std::filesystem::path& path);

// Polls `condition` every 5 ms; false when it did not hold within timeoutSeconds.
template <typename F>
bool waitFor(F condition, double timeoutSeconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSeconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace moe::test
