#pragma once
// Every MPI call's return code checked: a failure is a RunError naming the call and MPI's own message.
#ifdef NAGBENCH_HAVE_MPI
#include <mpi.h>

#include <string>

#include "nagbench/core/errors.hpp"

namespace nagbench {

inline void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw RunError(std::string(what) + " failed: " + std::string(msg, static_cast<size_t>(len)));
}

}  // namespace nagbench
#endif
