#pragma once
// Facts about where and how a result was made, for the JSON record. Nothing here needs Kokkos.
#include <cstdint>
#include <string>
#include <vector>

namespace nagbench {

const char* git_commit();  // generated at build time (cmake/WriteGitInfo.cmake)
bool git_dirty();

std::string host_name();
std::string executable_dir();  // the folder of the running executable (/proc/self/exe); "" when unknown
std::string utc_timestamp();   // ISO 8601, e.g. 2026-11-27T10:54:16Z
std::string joined_command_line(int argc, const char* const* argv);
std::string cpu_model_name();     // from /proc/cpuinfo; "unknown CPU" elsewhere
std::string cpu_affinity_list();  // the CPUs this process may run on, e.g. "0-3,8"
int cpu_affinity_count();         // how many
// The affinity at start of main(), before Kokkos starts its threads (libgomp may already have bound the main
// thread when OMP_PROC_BIND is set).
void remember_launch_affinity();
const std::string& launch_affinity();
int64_t last_level_cache_bytes();       // 0 when unknown
int64_t host_memory_available_bytes();  // MemAvailable; 0 when unknown

}  // namespace nagbench
