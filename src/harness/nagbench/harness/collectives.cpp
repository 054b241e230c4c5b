#include "nagbench/harness/collectives.hpp"

#ifdef NAGBENCH_HAVE_MPI
#include <mpi.h>
#endif

#include "nagbench/core/errors.hpp"
#include "nagbench/core/mpi_check.hpp"
#include "nagbench/core/watchdog.hpp"

namespace nagbench {

void broadcast_string(std::string& s, const ProcessInfo& proc) {
#ifdef NAGBENCH_HAVE_MPI
  if (proc.size == 1) return;
  WatchdogGuard guard("a broadcast from rank 0");
  long long n = static_cast<long long>(s.size());
  check_mpi(MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
  s.resize(static_cast<size_t>(n));
  if (n > 0) check_mpi(MPI_Bcast(&s[0], static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
#else
  (void)s;
  (void)proc;
#endif
}

bool all_ranks_true(bool value, const ProcessInfo& proc) {
#ifdef NAGBENCH_HAVE_MPI
  if (proc.size == 1) return value;
  WatchdogGuard guard("an agreement among ranks (MPI_Allreduce)");
  int local = value ? 1 : 0, global = 0;
  check_mpi(MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  return global == 1;
#else
  (void)proc;
  return value;
#endif
}

std::vector<double> sum_over_ranks(const std::vector<double>& values, const ProcessInfo& proc) {
#ifdef NAGBENCH_HAVE_MPI
  if (proc.size > 1 && !values.empty()) {
    WatchdogGuard guard("a sum over ranks (MPI_Allreduce)");
    std::vector<double> out(values.size());
    check_mpi(MPI_Allreduce(values.data(), out.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM,
                            MPI_COMM_WORLD),
              "MPI_Allreduce");
    return out;
  }
#endif
  (void)proc;
  return values;
}

std::vector<double> gather_to_root(double value, const ProcessInfo& proc) {
#ifdef NAGBENCH_HAVE_MPI
  if (proc.size > 1) {
    WatchdogGuard guard("a gather to rank 0");
    std::vector<double> all(proc.rank == 0 ? proc.size : 0);
    check_mpi(MPI_Gather(&value, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Gather");
    return all;
  }
#endif
  (void)proc;
  return {value};
}

std::vector<std::string> gather_strings_to_root(const std::string& value, const ProcessInfo& proc) {
#ifdef NAGBENCH_HAVE_MPI
  if (proc.size > 1) {
    WatchdogGuard guard("a gather to rank 0");
    int n = static_cast<int>(value.size());
    std::vector<int> sizes(proc.rank == 0 ? proc.size : 0), displs;
    check_mpi(MPI_Gather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather");
    std::string all;
    if (proc.rank == 0) {
      int total = 0;
      for (int s : sizes) {
        displs.push_back(total);
        total += s;
      }
      all.resize(static_cast<size_t>(total));
    }
    check_mpi(MPI_Gatherv(value.data(), n, MPI_CHAR, proc.rank == 0 ? &all[0] : nullptr, sizes.data(),
                          displs.data(), MPI_CHAR, 0, MPI_COMM_WORLD),
              "MPI_Gatherv");
    std::vector<std::string> out;
    for (int r = 0; r < static_cast<int>(sizes.size()); ++r)
      out.push_back(all.substr(displs[r], sizes[r]));
    return out;
  }
#endif
  (void)proc;
  return {value};
}

}  // namespace nagbench
