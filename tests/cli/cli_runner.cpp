#include "tests/cli/cli_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace moe::test {
namespace {

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string cliPath() {
  const char* env = std::getenv("MOESCOPE_CLI");
  return env && *env ? env : MOESCOPE_CLI_PATH;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TempDir::TempDir(const std::string& tag) {
  std::string tmpl = (fs::temp_directory_path() / ("moescope-" + tag + "-XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary folder " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

CliProcess::CliProcess(const std::vector<std::string>& args, const fs::path& logDir) {
  static int serial = 0;
  const std::string stem = "cli-" + std::to_string(++serial);
  outFile_ = logDir / (stem + ".out");
  errFile_ = logDir / (stem + ".err");
  std::vector<std::string> argv{cliPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int out = open(outFile_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(errFile_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) _exit(126);
    dup2(out, 1);
    dup2(err, 2);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
}

CliProcess::~CliProcess() {
  if (!reaped_) kill9();
}

std::string CliProcess::out() const { return readFile(outFile_); }
std::string CliProcess::err() const { return readFile(errFile_); }

bool CliProcess::running() {
  if (reaped_) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

void CliProcess::kill9() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
  reaped_ = true;
}

int CliProcess::wait(double timeoutSeconds) {
  if (!waitFor([&] { return !running(); }, timeoutSeconds)) kill9();
  return exitCodeOf(status_);
}

CliResult runCli(const std::vector<std::string>& args, double timeoutSeconds) {
  static const TempDir logs("cli-logs");  // removed at exit
  CliResult r;
  {
    CliProcess p(args, logs.path());
    r.code = p.wait(timeoutSeconds);
    r.out = p.out();
    r.err = p.err();
  }
  for (const auto& e : fs::directory_iterator(logs.path())) fs::remove(e.path());
  return r;
}

}  // namespace moe::test
