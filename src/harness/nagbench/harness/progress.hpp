#pragma once
// Progress lines on stderr for long runs, from rank 0 only, so stdout stays a clean table.
#include <chrono>
#include <cstdio>
#include <string>

namespace nagbench {

class Progress {
 public:
  Progress(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()), last_(start_) {}
  void say(const std::string& msg) {
    if (!enabled_) return;
    std::fprintf(stderr, "[nagbench %6.1fs] %s\n", elapsed(), msg.c_str());
    std::fflush(stderr);
  }
  // Says `msg` at most every `period_s` seconds (for loops).
  void tick(const std::string& msg, double period_s = 5.0) {
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_).count() < period_s) return;
    last_ = now;
    say(msg);
  }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace nagbench
