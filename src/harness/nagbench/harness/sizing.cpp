#include "nagbench/harness/sizing.hpp"

#include <algorithm>
#include <string>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/format.hpp"

namespace nagbench {

int64_t roof_bytes_per_array(const Config& cfg, const DeviceInfo& dev) {
  constexpr int64_t MiB = int64_t(1) << 20;
  if (cfg.roof_mib > 0) return static_cast<int64_t>(cfg.roof_mib * double(MiB));
  // CPUs: 8x the last-level cache (3 arrays: 24x), at least 256 MiB and at most 4 GiB (some VMs report the L3
  // of every socket or core complex summed). On a 64-core GPU host, 1 GiB arrays gave a 6% lower roof than 8x
  // its 300 MB L3 (docs/metrics.md). GPUs: 1 GiB, 20x an H100's 50 MB L2, or 8x a larger L2.
  int64_t bytes = std::min<int64_t>(std::max<int64_t>(256 * MiB, 8 * dev.last_level_cache_bytes), 4096 * MiB);
  if (dev.kind == "gpu") bytes = std::max<int64_t>(1024 * MiB, 8 * dev.last_level_cache_bytes);
  if (dev.memory_available_bytes > 0) bytes = std::min<int64_t>(bytes, dev.memory_available_bytes / 4 / 3);
  return bytes;
}

int64_t eviction_bytes(const Config& cfg, const DeviceInfo& dev) {
  constexpr int64_t MiB = int64_t(1) << 20;
  if (cfg.evict_mib >= 0) return static_cast<int64_t>(cfg.evict_mib * double(MiB)) / 8 * 8;  // whole doubles
  return std::min<int64_t>(std::max<int64_t>(4 * dev.last_level_cache_bytes, 64 * MiB), 1024 * MiB);
}

void check_memory_fits(int64_t need_bytes, const DeviceInfo& dev, Progress& progress) {
  const std::string where =
      dev.kind == "gpu" ? "GPU " + std::to_string(dev.index) + " (" + dev.name + ")" : "host";
  const std::string avail =
      dev.memory_available_bytes > 0 ? format_bytes_binary(double(dev.memory_available_bytes)) : "unknown";
  if (dev.memory_available_bytes > 0 && need_bytes > dev.memory_available_bytes * 95 / 100) {
    throw InputError("the run needs " + format_bytes_binary(double(need_bytes)) + " but the " + where +
                     " has only " + avail + " available; choose a smaller model or --roof-mib");
  }
  progress.say("memory: needs " + format_bytes_binary(double(need_bytes)) + " on the " + where + ", " +
               avail + " available");
}

}  // namespace nagbench
