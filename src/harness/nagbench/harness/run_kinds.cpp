#include "nagbench/harness/run_kinds.hpp"

#include "nagbench/core/errors.hpp"

namespace nagbench {

void validate_run_kind(const Config& cfg, int ranks) {
  bool found = false;
  for_each_type(RunKinds{}, [&](auto t) {
    using K = typename decltype(t)::type;
    if (cfg.mode != K::kName) return;
    found = true;
    K::validate(cfg, ranks);
  });
  if (!found) throw InputError("internal: unknown run kind '" + cfg.mode + "'");
}

int64_t memory_needed(const Config& cfg, const DeviceInfo& dev, int ranks) {
  int64_t bytes = 0;
  for_each_type(RunKinds{}, [&](auto t) {
    using K = typename decltype(t)::type;
    if (cfg.mode == K::kName) bytes = K::memory_needed(cfg, dev, ranks);
  });
  return bytes;
}

}  // namespace nagbench
