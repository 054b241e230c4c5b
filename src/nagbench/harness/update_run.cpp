#include "nagbench/harness/update_run.hpp"

#include <algorithm>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/format.hpp"

namespace nagbench {

int64_t roof_bytes_per_array(const Config& cfg, const DeviceInfo& dev) {
  constexpr int64_t MiB = int64_t(1) << 20;
  if (cfg.roof_mib > 0) return static_cast<int64_t>(cfg.roof_mib * double(MiB));
  int64_t bytes = std::max<int64_t>(256 * MiB, 8 * dev.last_level_cache_bytes);
  if (dev.kind == "gpu") bytes = std::max<int64_t>(bytes, 1024 * MiB);
  if (dev.memory_available_bytes > 0) bytes = std::min<int64_t>(bytes, dev.memory_available_bytes / 4 / 3);
  return bytes;
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
