#pragma once
// One-line progress display on a terminal (rewritten in place); in a log (stderr not a terminal)
// plain lines, at most one every few seconds plus the last one, so that a long job does not write
// hundreds of lines.
#include <chrono>
#include <string>

namespace moe::cli {

std::string formatDuration(double seconds);  // "1:05:09", "4:02", "12 s"

class ProgressLine {
 public:
  ProgressLine();
  void update(const std::string& text);  // replaces the current line on a terminal
  void finish();                         // ends the line

 private:
  bool tty_;
  size_t lastWidth_ = 0;
  bool open_ = false;
  std::string pending_;  // a log's latest text not yet written
  std::chrono::steady_clock::time_point lastLine_{};
  bool wroteLine_ = false;
};

}  // namespace moe::cli
