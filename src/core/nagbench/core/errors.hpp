#pragma once
// The two ways a run can fail, and the exit status each one maps to.
#include <stdexcept>
#include <string>

namespace nagbench {

// The user asked for something invalid (flag, file, size, backend). Reported as one line, exit status 2, and
// no result file is written. Raised only before any collective or kernel starts, so every rank can agree on
// it.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Something failed while running (allocation, CUDA/MPI/NCCL call, a failed correctness check).
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitRunError = 1;
inline constexpr int kExitInputError = 2;

}  // namespace nagbench
