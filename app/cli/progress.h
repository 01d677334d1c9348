#pragma once
// One-line progress display on a terminal (rewritten in place), plain lines otherwise.
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
};

}  // namespace moe::cli
