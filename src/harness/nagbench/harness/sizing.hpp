#pragma once
// How big the buffers of a run are, and whether they fit: the roof arrays, the cache-eviction buffer, and the
// check every run kind makes before allocating anything.
#include <cstdint>

#include "nagbench/harness/config.hpp"
#include "nagbench/harness/device_info.hpp"
#include "nagbench/harness/progress.hpp"

namespace nagbench {

// Bytes per roof array: --roof-mib, else past the last-level cache by a wide margin (8x; CPUs: clamped to
// 256 MiB .. 4 GiB; GPUs: at least 1 GiB), within a quarter of the available memory over the 3 arrays.
int64_t roof_bytes_per_array(const Config& cfg, const DeviceInfo& dev);

// Bytes written between producing gradients and the timed update, to push them out of the last-level cache:
// --evict-mib, else 4x the cache, at least 64 MiB, at most 1 GiB.
int64_t eviction_bytes(const Config& cfg, const DeviceInfo& dev);

// Throws InputError when `need_bytes` cannot fit in the device's memory; says how much it needs either way.
void check_memory_fits(int64_t need_bytes, const DeviceInfo& dev, Progress& progress);

}  // namespace nagbench
