#include "app/cli/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace moe::cli {

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%ld s", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

ProgressLine::ProgressLine() : tty_(isatty(fileno(stderr)) != 0) {}

void ProgressLine::update(const std::string& text) {
  if (tty_) {
    std::string padded = text;
    if (padded.size() < lastWidth_) padded.append(lastWidth_ - padded.size(), ' ');
    std::fprintf(stderr, "\r%s", padded.c_str());
    lastWidth_ = text.size();
    open_ = true;
  } else {
    constexpr auto kLogInterval = std::chrono::seconds(5);
    const auto now = std::chrono::steady_clock::now();
    if (wroteLine_ && now - lastLine_ < kLogInterval) {
      pending_ = text;
      return;
    }
    std::fprintf(stderr, "%s\n", text.c_str());
    pending_.clear();
    lastLine_ = now;
    wroteLine_ = true;
  }
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (tty_ && open_) std::fprintf(stderr, "\n");
  if (!tty_ && !pending_.empty()) std::fprintf(stderr, "%s\n", pending_.c_str());
  std::fflush(stderr);
  pending_.clear();
  wroteLine_ = false;
  open_ = false;
  lastWidth_ = 0;
}

}  // namespace moe::cli
