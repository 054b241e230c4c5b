// nagbench: the driver. Owns the order of things: MPI, command line (rank 0, broadcast), pre-Kokkos checks,
// Kokkos, the run, the record. Every input error ends every rank with the same one-line message and status 2.
#include <unistd.h>

#include <Kokkos_Core.hpp>
#if defined(KOKKOS_ENABLE_OPENMP)
#include <omp.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "nagbench/app/cli.hpp"
#include "nagbench/comm/registry.hpp"
#include "nagbench/core/backends.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/json_io.hpp"
#include "nagbench/core/provenance.hpp"
#include "nagbench/core/watchdog.hpp"
#include "nagbench/harness/collectives.hpp"
#include "nagbench/harness/record_common.hpp"
#include "nagbench/harness/run_kinds.hpp"
#include "nagbench/harness/runtime.hpp"
#include "nagbench/harness/sizing.hpp"

using namespace nagbench;

namespace {

// Rank 0 parses and validates; everyone learns the outcome. Returns the exit status when the process should
// stop.
int agree_on_plan(int argc, char** argv, const ProcessInfo& proc, CliOutcome& out) {
  std::string message;  // "run:<plan json>", "exit:" or "error:<message>"
  if (proc.rank == 0) {
    try {
      out = parse_command_line(argc, argv, executable_dir(), proc.size);
      nlohmann::json j = {{"plan", to_json(out.plan)}, {"kokkos_args", out.kokkos_args}};
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
  out.plan = plan_from_json(j.at("plan"));
  out.kokkos_args = j.at("kokkos_args").get<std::vector<std::string>>();
  return -1;
}

#if defined(KOKKOS_ENABLE_OPENMP)
// The OpenMP threads Kokkos will start: --kokkos-threads, else what the OpenMP runtime would use
// (OMP_NUM_THREADS, else every hardware thread).
int requested_host_threads(const std::vector<std::string>& kokkos_args) {
  for (const auto& a : kokkos_args)
    for (const char* key : {"--kokkos-threads=", "--kokkos-num-threads="})
      if (a.rfind(key, 0) == 0) return std::atoi(a.c_str() + std::strlen(key));
  return omp_get_max_threads();
}
#endif

// Before Kokkos starts: a CUDA build needs a GPU even for --backend openmp, because Kokkos initialises every
// compiled-in backend and Kokkos 3.4 aborts inside Kokkos::initialize when CUDA finds no device. Ranks map to
// the node's GPUs by local rank; more ranks than GPUs is an error unless sharing was asked for.
int check_devices(const Config& cfg, const std::vector<std::string>& kokkos_args, const ProcessInfo& proc,
                  int* device_id) {
  *device_id = -1;
  std::string problem;
#ifdef KOKKOS_ENABLE_CUDA
  std::string why;
  const int gpus = visible_gpu_count(&why);
  if (gpus == 0) {
    problem = "this nagbench was built with CUDA and needs a visible GPU, even for --backend " + cfg.backend +
              " (" + why + "); on CPU-only nodes use the OpenMP build";
  } else if (proc.local_size > gpus && !cfg.allow_gpu_sharing && cfg.backend == "cuda") {
    problem = std::to_string(proc.local_size) + " ranks on node " + host_name() + " but only " +
              std::to_string(gpus) + " GPUs visible; use one rank per GPU or --allow-gpu-sharing";
  } else {
    *device_id = proc.local_rank % gpus;
  }
#else
  (void)cfg;
#endif
#if defined(KOKKOS_ENABLE_OPENMP) && KOKKOS_VERSION < 40000
  // Kokkos 3.x's OpenMP pool has MAX_THREAD_COUNT (512) slots and crashes in Kokkos::initialize past it.
  const int threads = requested_host_threads(kokkos_args);
  if (problem.empty() && threads > kMaxHostThreads)
    problem = std::to_string(threads) +
              " OpenMP threads requested (OMP_NUM_THREADS or --kokkos-threads), but Kokkos " +
              kokkos_version_string() + " supports at most " + std::to_string(kMaxHostThreads) +
              " per process; run more ranks with fewer threads each";
#else
  (void)kokkos_args;
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

// With OMP_PROC_BIND set and ranks the launcher did not bind, every rank's OpenMP runtime binds its threads
// from the node's first CPU, so the ranks' threads (main threads included) pile onto the same cores; seen on
// a 2-GPU machine as 16 ms-quantised step times. Collective: compares the ranks' main-thread CPU sets per
// host.
void warn_about_shared_cores(const Config& cfg, const ProcessInfo& proc) {
  if (proc.size < 2) return;
  const auto all = gather_strings_to_root(host_name() + " " + cpu_affinity_list(), proc);
  if (proc.rank != 0 || cfg.quiet) return;
  for (size_t a = 0; a < all.size(); ++a)
    for (size_t b = a + 1; b < all.size(); ++b)
      if (all[a] == all[b]) {
        const char* bind = std::getenv("OMP_PROC_BIND");
        std::fprintf(stderr,
                     "[nagbench] warning: ranks %zu and %zu run on the same CPUs (%s)%s; bind ranks with the "
                     "launcher (mpirun --map-by ppr:N:node:PE=T --bind-to core, srun --cpu-bind=cores)\n",
                     a, b, all[a].c_str(), bind ? (std::string(", OMP_PROC_BIND=") + bind).c_str() : "");
        return;
      }
}

// Ends the job when any rank's check failed: rank 0 prints every failing rank's finding in one line, after
// its table, and aborts; the other ranks wait for that abort.
void end_job_if_any_check_failed(const std::string& failure, const ProcessInfo& proc) {
  const auto failures = gather_strings_to_root(failure, proc);
  if (all_ranks_true(failure.empty(), proc)) return;
  if (proc.rank == 0) {
    std::string msg = "verification failed";
    for (size_t r = 0; r < failures.size(); ++r)
      if (!failures[r].empty())
        msg += (proc.size > 1 ? "; rank " + std::to_string(r) + ": " : ": ") + failures[r];
    abort_job(proc, msg + "; no result written", kExitRunError);
  }
  all_ranks_true(true, proc);  // never returns: rank 0 aborts the job
  std::_Exit(kExitRunError);
}

// One configuration: its table on stdout (rank 0) and its record; aborts the job when its check fails.
nlohmann::json run_one(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  RunOutput out;
  with_backend(cfg.backend, [&](auto exec) { out = run_configuration<decltype(exec)>(cfg, proc, progress); });
  if (proc.rank == 0) std::cout << out.table << std::flush;
  end_job_if_any_check_failed(out.failure, proc);
  return out.record;
}

// Every configuration's memory, on every rank, before any of them runs: a list launch never loses finished
// work to an input error in a later configuration.
void check_every_configuration_fits(const RunPlan& plan, const ProcessInfo& proc, Progress& progress) {
  std::string problem;
  try {
    for (const auto& cfg : plan.configs) {
      const DeviceInfo dev = describe_device(cfg.backend);
      Progress quiet(false);
      check_memory_fits(memory_needed(cfg, dev, proc.size), dev, quiet);
    }
  } catch (const InputError& e) {
    problem = e.what();
  }
  if (!all_ranks_true(problem.empty(), proc))
    throw InputError(problem.empty() ? "another rank does not have the memory for this launch" : problem);
  if (plan.configs.size() > 1)
    progress.say("all " + std::to_string(plan.configs.size()) + " configurations fit");
}

// Records are written as each configuration finishes, so a launch killed later (a walltime, a failure) keeps
// what it finished: FILE.jsonl gets one appended line per record; any other name the whole document so far,
// replaced atomically (one object for a single configuration, a list otherwise).
class RecordWriter {
 public:
  RecordWriter(const std::string& path, size_t configs) : path_(path), list_(configs > 1) {}
  void add(const nlohmann::json& record) {
    if (path_.empty()) return;
    if (is_json_lines_path(path_)) {
      append_json_line(path_, record);
      return;
    }
    records_.push_back(record);
    write_json_atomically(path_, list_ ? records_ : records_.front());
  }

 private:
  std::string path_;
  bool list_;
  nlohmann::json records_ = nlohmann::json::array();
};

int run(const RunPlan& plan, const ProcessInfo& proc) {
  const Config& first = plan.configs.front();
  Progress progress(!first.quiet && proc.rank == 0);
  RecordWriter writer(proc.rank == 0 ? first.output : std::string(), plan.configs.size());
  try {
    check_every_configuration_fits(plan, proc, progress);
    if (first.check_only) {
      if (proc.rank == 0)
        std::printf("nagbench: %zu configuration%s checked: all would run\n", plan.configs.size(),
                    plan.configs.size() == 1 ? "" : "s");
      return kExitOk;
    }
    for (size_t i = 0; i < plan.configs.size(); ++i) {
      if (plan.configs.size() > 1)
        progress.say("configuration " + std::to_string(i + 1) + "/" + std::to_string(plan.configs.size()));
      const nlohmann::json record = run_one(plan.configs[i], proc, progress);
      writer.add(record);
      if (!first.output.empty()) progress.say("wrote " + first.output);
      if (proc.rank == 0 && i + 1 < plan.configs.size()) std::cout << "\n";
    }
  } catch (const InputError& e) {
    if (proc.rank == 0) std::fprintf(stderr, "nagbench: error: %s\n", e.what());
    release_communicators();
    return kExitInputError;
  }
  release_communicators();
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  const ProcessInfo& proc = mpi.info();
  CliOutcome cli;
  try {
    if (const int rc = agree_on_plan(argc, argv, proc, cli); rc >= 0) return rc;
    const Config& first = cli.plan.configs.front();
    int device_id = -1;
    if (const int rc = check_devices(first, cli.kokkos_args, proc, &device_id); rc >= 0) return rc;
    remember_launch_affinity();
    // Kokkos 3.4 prints a four-line OMP_PROC_BIND advice on stdout, into the table; say it in one line
    // instead.
    std::vector<std::string> kokkos_args = cli.kokkos_args;
    if (!std::getenv("OMP_PROC_BIND")) {
      kokkos_args.emplace_back("--kokkos-disable-warnings");
      if (proc.rank == 0 && !first.quiet && first.backend == "openmp")
        std::fprintf(stderr,
                     "[nagbench] note: OMP_PROC_BIND is not set, so threads may migrate; "
                     "for steady numbers set OMP_PROC_BIND=spread OMP_PLACES=threads\n");
    }
    KokkosSession kokkos(device_id, kokkos_args);
    warn_about_shared_cores(first, proc);
    watchdog_start(first.timeout_s, "rank " + std::to_string(proc.rank) + " (" + host_name() + ")");
    const int rc = run(cli.plan, proc);
    watchdog_stop();
    return rc;
  } catch (const std::exception& e) {
    abort_job(proc, e.what(), kExitRunError);
  }
}
