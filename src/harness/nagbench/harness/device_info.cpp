#include "nagbench/harness/device_info.hpp"

#include <Kokkos_Core.hpp>
#include <cstdio>

#ifdef KOKKOS_ENABLE_CUDA
#include <cuda_runtime.h>
#endif

#include "nagbench/core/provenance.hpp"

namespace nagbench {
namespace {

DeviceInfo describe_host(int threads) {
  DeviceInfo d;
  d.kind = "cpu";
  d.name = cpu_model_name();
  d.threads = threads;
  d.memory_available_bytes = host_memory_available_bytes();
  d.last_level_cache_bytes = last_level_cache_bytes();
  return d;
}

#ifdef KOKKOS_ENABLE_CUDA
std::string format_uuid(const cudaUUID_t& u) {
  const auto* b = reinterpret_cast<const unsigned char*>(u.bytes);
  char s[64];
  std::snprintf(s, sizeof(s), "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return s;
}

std::string cuda_version_string(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

DeviceInfo describe_cuda() {
  DeviceInfo d;
  d.kind = "gpu";
  int dev = 0;
  cudaGetDevice(&dev);
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, dev) != cudaSuccess) return d;
  d.index = dev;
  d.name = prop.name;
  d.uuid = format_uuid(prop.uuid);
  char bus[32] = {0};
  if (cudaDeviceGetPCIBusId(bus, sizeof(bus), dev) == cudaSuccess) d.pci_bus_id = bus;
  d.multiprocessors = prop.multiProcessorCount;
  d.threads = prop.multiProcessorCount * prop.maxThreadsPerMultiProcessor;
  d.last_level_cache_bytes = prop.l2CacheSize;
  size_t free_b = 0, total_b = 0;
  if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
    d.memory_total_bytes = static_cast<int64_t>(total_b);
    d.memory_available_bytes = static_cast<int64_t>(free_b);
  }
  int v = 0;
  if (cudaDriverGetVersion(&v) == cudaSuccess) d.driver_version = cuda_version_string(v);
  if (cudaRuntimeGetVersion(&v) == cudaSuccess) d.runtime_version = cuda_version_string(v);
  return d;
}
#endif

}  // namespace

DeviceInfo describe_device(const std::string& backend) {
#ifdef KOKKOS_ENABLE_CUDA
  if (backend == "cuda") return describe_cuda();
#endif
#ifdef KOKKOS_ENABLE_OPENMP
  if (backend == "openmp") return describe_host(Kokkos::OpenMP().concurrency());
#endif
  return describe_host(1);
}

nlohmann::json to_json(const DeviceInfo& d) {
  nlohmann::json j = {{"kind", d.kind},
                      {"name", d.name},
                      {"threads", d.threads},
                      {"memory_total_bytes", d.memory_total_bytes},
                      {"memory_available_bytes", d.memory_available_bytes},
                      {"last_level_cache_bytes", d.last_level_cache_bytes}};
  if (d.kind == "gpu") {
    j["index"] = d.index;
    j["uuid"] = d.uuid;
    j["pci_bus_id"] = d.pci_bus_id;
    j["multiprocessors"] = d.multiprocessors;
    j["cuda_driver_version"] = d.driver_version;
    j["cuda_runtime_version"] = d.runtime_version;
  }
  return j;
}

}  // namespace nagbench
