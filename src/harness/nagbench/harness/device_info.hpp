#pragma once
// What a backend runs on, for the table and the record: GPU name and UUID, or CPU model and threads.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace nagbench {

struct DeviceInfo {
  std::string kind;  // "gpu" or "cpu"
  std::string name;  // "NVIDIA H200", "AMD EPYC 9654 96-Core Processor"
  std::string uuid;  // GPUs only
  int index = -1;    // CUDA device ordinal
  std::string pci_bus_id;
  int threads = 1;  // execution space concurrency (host threads; resident threads on GPUs)
  int multiprocessors = 0;
  int64_t memory_total_bytes = 0;
  int64_t memory_available_bytes = 0;
  int64_t last_level_cache_bytes = 0;
  std::string driver_version, runtime_version;
};

DeviceInfo describe_device(const std::string& backend);  // a compiled-in backend name
nlohmann::json to_json(const DeviceInfo& d);

}  // namespace nagbench
