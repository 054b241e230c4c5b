#pragma once
// The few host-side collectives the harness needs (config broadcast, agreement on errors, gathering per-rank
// timings). Without MPI they are the one-rank identities.
#include <string>
#include <vector>

#include "nagbench/harness/runtime.hpp"

namespace nagbench {

void broadcast_string(std::string& s, const ProcessInfo& proc);  // from rank 0
bool all_ranks_true(bool value, const ProcessInfo& proc);
std::vector<double> gather_to_root(double value, const ProcessInfo& proc);  // rank 0 gets all; others get {}
std::vector<std::string> gather_strings_to_root(const std::string& value, const ProcessInfo& proc);
// Element-wise sums over every rank, returned on every rank (MPI_Allreduce; float64, in MPI's fixed order).
std::vector<double> sum_over_ranks(const std::vector<double>& values, const ProcessInfo& proc);

}  // namespace nagbench
