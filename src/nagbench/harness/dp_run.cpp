#include "nagbench/harness/dp_run.hpp"

#include <map>

#include "nagbench/core/provenance.hpp"

namespace nagbench {

const RoofResult& roof_for(const std::string& backend, const std::function<RoofResult()>& measure) {
  static std::map<std::string, RoofResult> cache;
  auto it = cache.find(backend);
  if (it == cache.end()) it = cache.emplace(backend, measure()).first;
  return it->second;
}

std::string describe_rank(const ProcessInfo& proc, const DeviceInfo& dev) {
  nlohmann::json j = {{"rank", proc.rank},       {"local_rank", proc.local_rank},
                      {"host", host_name()},     {"cpu_affinity", cpu_affinity_list()},
                      {"device_kind", dev.kind}, {"device_name", dev.name}};
  if (dev.kind == "gpu") {
    j["gpu_index"] = dev.index;
    j["gpu_uuid"] = dev.uuid;
    j["gpu_pci_bus_id"] = dev.pci_bus_id;
  }
  return j.dump();
}

}  // namespace nagbench
