#pragma once
// Process start-up and shut-down in one place: MPI first, then Kokkos; finalised in reverse (ArborX's
// utf_main.cpp order). Also the checks that must happen before Kokkos starts.
#include <string>
#include <vector>

#include "nagbench/core/process.hpp"

namespace nagbench {

class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  const ProcessInfo& info() const { return info_; }

 private:
  ProcessInfo info_;
  bool initialized_here_ = false;
};

// Number of CUDA GPUs this process sees; 0 with *why filled in when none (no driver, no device). Always 0 in
// a build without CUDA. Called before Kokkos::initialize, which in a CUDA build of Kokkos 3.4 aborts without
// a GPU.
int visible_gpu_count(std::string* why);

class KokkosSession {
 public:
  // device_id < 0: let Kokkos choose (host-only builds). Extra arguments go to Kokkos unchanged.
  explicit KokkosSession(int device_id, const std::vector<std::string>& extra_args = {});
  ~KokkosSession();
  KokkosSession(const KokkosSession&) = delete;
  KokkosSession& operator=(const KokkosSession&) = delete;
};

// Aborts every rank with a message naming this rank (MPI_Abort), or exits, so a run-time failure never hangs.
[[noreturn]] void abort_job(const ProcessInfo& who, const std::string& message, int exit_code);

}  // namespace nagbench
