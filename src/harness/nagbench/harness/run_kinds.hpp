#pragma once
// THE table of run kinds (like nccl-tests' struct testColl / testEngine): each kind is one folder (update/,
// dp/, allreduce/) that defines the members of its row below, i.e. how it checks a configuration, how much
// memory it needs, and run<Exec>, which measures, verifies and returns its record and its table. The driver
// never names a kind; adding one is a folder plus one row (a struct and its place in RunKinds).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "nagbench/core/process.hpp"
#include "nagbench/core/type_list.hpp"
#include "nagbench/harness/config.hpp"
#include "nagbench/harness/device_info.hpp"
#include "nagbench/harness/progress.hpp"

namespace nagbench {

// What a run gives back: its record (rank 0's is the one written), its table for stdout (rank 0), and, when
// its own check failed on this rank, why, on one line ("" when it passed).
struct RunOutput {
  nlohmann::json record;
  std::string table;
  std::string failure;
};

#define NAGBENCH_RUN_KIND(Type, Name)                                                     \
  struct Type {                                                                           \
    static constexpr const char* kName = Name;                                            \
    static void validate(const Config& cfg, int ranks);                                   \
    static int64_t memory_needed(const Config& cfg, const DeviceInfo& dev, int ranks);    \
    template <class Exec>                                                                 \
    static RunOutput run(const Config& cfg, const ProcessInfo& proc, Progress& progress); \
  }

NAGBENCH_RUN_KIND(UpdateRun, "update");        // update/: the update kernel of one rank against the roof
NAGBENCH_RUN_KIND(DpRun, "dp");                // dp/: the data-parallel step (gradients, reductions, update)
NAGBENCH_RUN_KIND(AllreduceRun, "allreduce");  // allreduce/: the allreduce sweep, nccl-tests style
NAGBENCH_RUN_KIND(TrainRun, "train");          // train/: a workload with an objective, trained to a target

using RunKinds = TypeList<UpdateRun, DpRun, AllreduceRun, TrainRun>;

// The kind's checks for cfg.mode (an unknown mode is an internal error).
void validate_run_kind(const Config& cfg, int ranks);
// Device (or host) bytes per rank, roof arrays included, in checked arithmetic (overflow is an InputError).
int64_t memory_needed(const Config& cfg, const DeviceInfo& dev, int ranks);
// Runs cfg with its kind on execution space Exec; defined in run_kinds_impl.hpp and instantiated once per
// enabled backend by a generated file (src/harness/CMakeLists.txt).
template <class Exec>
RunOutput run_configuration(const Config& cfg, const ProcessInfo& proc, Progress& progress);

}  // namespace nagbench
