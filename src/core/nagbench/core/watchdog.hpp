#pragma once
// A watchdog for operations that wait on other ranks or on the device (a step, a collective, an allreduce
// sweep). If one runs past the timeout, a helper thread prints one line naming this rank and the operation,
// runs the abort hooks (ncclCommAbort, so NCCL kernels waiting on a dead peer let go), and ends the process
// with _exit; the launcher then ends the job. Like PyTorch's NCCL watchdog. MPI is initialised FUNNELED, so
// the watchdog thread never calls MPI.
#include <functional>
#include <string>

namespace nagbench {

// Starts the watchdog thread (timeout_s > 0) or leaves it off (0). `who` names this process in the message,
// e.g. "rank 1 (node12)". Idempotent for the same arguments; a later call replaces the timeout.
void watchdog_start(double timeout_s, const std::string& who);
// Stops the thread (before MPI and Kokkos finalise).
void watchdog_stop();
// Called once, from the watchdog thread, before the process ends.
void watchdog_add_abort_hook(std::function<void()> hook);

// Arms the watchdog for the lifetime of the guard; guards nest (the innermost operation is named).
// `operation` must be a string literal or otherwise outlive the guard.
class WatchdogGuard {
 public:
  explicit WatchdogGuard(const char* operation);
  ~WatchdogGuard();
  WatchdogGuard(const WatchdogGuard&) = delete;
  WatchdogGuard& operator=(const WatchdogGuard&) = delete;

 private:
  const char* previous_operation_;
  long long previous_deadline_;
};

}  // namespace nagbench
