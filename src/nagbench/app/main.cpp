// nagbench: the driver. Owns the order of things: MPI, command line (rank 0, broadcast), pre-Kokkos checks,
// Kokkos, the run, the record. Every input error ends every rank with the same one-line message and status 2.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "nagbench/app/cli.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/json_io.hpp"
#include "nagbench/harness/backend.hpp"
#include "nagbench/harness/collectives.hpp"
#include "nagbench/harness/record.hpp"
#include "nagbench/harness/runtime.hpp"
#include "nagbench/harness/update_run.hpp"

using namespace nagbench;

namespace {

std::string executable_dir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.find_last_of('/'));
}

// Rank 0 parses and validates; everyone learns the outcome. Returns the exit status when the process should
// stop.
int agree_on_config(int argc, char** argv, const ProcessInfo& proc, CliOutcome& out) {
  std::string message;  // "run:<config json>", "exit:" or "error:<message>"
  if (proc.rank == 0) {
    try {
      out = parse_command_line(argc, argv, executable_dir());
      nlohmann::json j = to_json(out.config);
      j["kokkos_args"] = out.kokkos_args;
      message = out.kind == CliOutcome::Kind::exit_ok ? "exit:" : "run:" + j.dump();
    } catch (const InputError& e) {
      message = std::string("error:") + e.what();
    }
  }
  broadcast_string(message, proc);
  if (message.rfind("exit:", 0) == 0) return kExitOk;
  if (message.rfind("error:", 0) == 0) {
    if (proc.rank == 0) std::fprintf(stderr, "nagbench: error: %s\n", message.c_str() + 6);
    return kExitInputError;
  }
  const auto j = nlohmann::json::parse(message.substr(4));
  out.config = config_from_json(j);
  out.kokkos_args = j.at("kokkos_args").get<std::vector<std::string>>();
  return -1;
}

// Before Kokkos starts: a CUDA build needs a GPU even for --backend openmp, because Kokkos initialises every
// compiled-in backend and Kokkos 3.4 aborts inside Kokkos::initialize when CUDA finds no device.
int check_devices(const Config& cfg, const ProcessInfo& proc, int* device_id) {
  *device_id = -1;
  std::string problem;
#ifdef KOKKOS_ENABLE_CUDA
  std::string why;
  const int gpus = visible_gpu_count(&why);
  if (gpus == 0) {
    problem = "this nagbench was built with CUDA and needs a visible GPU, even for --backend " + cfg.backend +
              " (" + why + "); on CPU-only nodes use the OpenMP build";
  } else {
    *device_id = proc.local_rank % gpus;
  }
#else
  (void)cfg;
#endif
  const bool ok = all_ranks_true(problem.empty(), proc);
  if (!ok) {
    if (proc.rank == 0)
      std::fprintf(stderr, "nagbench: error: %s\n",
                   problem.empty() ? "another rank has no usable GPU" : problem.c_str());
    return kExitInputError;
  }
  return -1;
}

int run(const Config& cfg, const ProcessInfo& proc) {
  Progress progress(!cfg.quiet && proc.rank == 0);
  UpdateRunResult r;
  try {
    r = with_backend(parse_backend(cfg.backend),
                     [&](auto exec) { return run_update<decltype(exec)>(cfg, proc, progress); });
  } catch (const InputError& e) {
    if (proc.rank == 0) std::fprintf(stderr, "nagbench: error: %s\n", e.what());
    return kExitInputError;
  }
  if (proc.rank == 0) std::cout << update_table(cfg, r) << std::flush;
  if (r.verify.mode != "off" && !r.verify.passed) {
    abort_job(proc, "verification against the float64 reference failed; no result written", kExitRunError);
  }
  if (proc.rank == 0 && !cfg.output.empty()) {
    write_json_atomically(cfg.output, update_record(cfg, proc, r));
    progress.say("wrote " + cfg.output);
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  const ProcessInfo& proc = mpi.info();
  CliOutcome cli;
  try {
    if (const int rc = agree_on_config(argc, argv, proc, cli); rc >= 0) return rc;
    int device_id = -1;
    if (const int rc = check_devices(cli.config, proc, &device_id); rc >= 0) return rc;
    // Kokkos 3.4 prints a four-line OMP_PROC_BIND advice on stdout, into the table; say it in one line
    // instead.
    std::vector<std::string> kokkos_args = cli.kokkos_args;
    if (!std::getenv("OMP_PROC_BIND")) {
      kokkos_args.emplace_back("--kokkos-disable-warnings");
      if (proc.rank == 0 && !cli.config.quiet && cli.config.backend == "openmp")
        std::fprintf(stderr,
                     "[nagbench] note: OMP_PROC_BIND is not set, so threads may migrate; "
                     "for steady numbers set OMP_PROC_BIND=spread OMP_PLACES=threads\n");
    }
    KokkosSession kokkos(device_id, kokkos_args);
    return run(cli.config, proc);
  } catch (const std::exception& e) {
    abort_job(proc, e.what(), kExitRunError);
  }
}
