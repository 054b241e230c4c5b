#pragma once
// Command line -> Config. Runs on rank 0 only; the result is broadcast.
#include <string>
#include <vector>

#include "nagbench/harness/config.hpp"

namespace nagbench {

struct CliOutcome {
  enum class Kind { run, exit_ok } kind = Kind::run;  // exit_ok: --help, --version, --list-* already printed
  RunPlan plan;
  std::vector<std::string> kokkos_args;  // --kokkos-* arguments, passed to Kokkos::initialize unchanged
};

// Throws InputError with a one-line message for anything invalid. `ranks`: the size of the MPI job.
CliOutcome parse_command_line(int argc, char** argv, const std::string& executable_dir, int ranks);

// Parses counts written as 268435456, 2^28 or 1e6. Throws InputError.
int64_t parse_count(const std::string& text, const std::string& what);
// Parses byte sizes: a count as above, or with a binary suffix: 64K, 1M, 1MiB, 4G, 4GiB. Throws InputError.
int64_t parse_bytes(const std::string& text, const std::string& what);

}  // namespace nagbench
