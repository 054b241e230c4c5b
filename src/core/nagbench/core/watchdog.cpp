#include "nagbench/core/watchdog.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace nagbench {
namespace {

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct State {
  std::atomic<long long> timeout_ns{0};
  std::atomic<long long> deadline_ns{0};  // 0: nothing armed
  std::atomic<const char*> operation{nullptr};
  std::string who;
  std::vector<std::function<void()>> hooks;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

State& state() {
  static State s;
  return s;
}

[[noreturn]] void fire(State& s, const char* op) {
  std::fprintf(
      stderr,
      "nagbench: error on %s: watchdog: %s did not finish within %.0f s (--timeout); aborting the job\n",
      s.who.c_str(), op ? op : "an operation", double(s.timeout_ns.load()) / 1e9);
  std::fflush(stderr);
  for (auto& hook : s.hooks)
    hook();
  _exit(1);
}

void loop() {
  State& s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  while (!s.stopping) {
    const long long period = std::max<long long>(s.timeout_ns.load() / 8, 50000000LL);  // >= 50 ms
    s.wake.wait_for(lock, std::chrono::nanoseconds(std::min<long long>(period, 1000000000LL)));
    if (s.stopping) break;
    const long long deadline = s.deadline_ns.load();
    if (deadline != 0 && now_ns() > deadline) fire(s, s.operation.load());
  }
}

}  // namespace

void watchdog_start(double timeout_s, const std::string& who) {
  State& s = state();
  s.timeout_ns = static_cast<long long>(timeout_s * 1e9);
  s.who = who;
  if (timeout_s <= 0 || s.thread.joinable()) return;
  s.stopping = false;
  s.thread = std::thread(loop);
}

void watchdog_stop() {
  State& s = state();
  if (!s.thread.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.stopping = true;
  }
  s.wake.notify_all();
  s.thread.join();
}

void watchdog_add_abort_hook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().hooks.push_back(std::move(hook));
}

WatchdogGuard::WatchdogGuard(const char* operation) {
  State& s = state();
  previous_operation_ = s.operation.load();
  previous_deadline_ = s.deadline_ns.load();
  const long long t = s.timeout_ns.load();
  s.operation = operation;
  s.deadline_ns = t > 0 ? now_ns() + t : 0;
}

WatchdogGuard::~WatchdogGuard() {
  State& s = state();
  // An outer operation's deadline is restarted, not restored: the inner one finished, so progress was made.
  const long long t = s.timeout_ns.load();
  s.operation = previous_operation_;
  s.deadline_ns = (previous_deadline_ != 0 && t > 0) ? now_ns() + t : 0;
}

}  // namespace nagbench
