#pragma once
// Definition of run_configuration<Exec>: every run kind's run<Exec>, dispatched by name. Included only by the
// per-backend instantiation files CMake generates (one per enabled execution space, compiled in parallel).
#include "nagbench/harness/allreduce/allreduce_impl.hpp"
#include "nagbench/harness/dp/dp_impl.hpp"
#include "nagbench/harness/run_kinds.hpp"
#include "nagbench/harness/train/train_impl.hpp"
#include "nagbench/harness/update/update_impl.hpp"

namespace nagbench {

template <class Exec>
RunOutput run_configuration(const Config& cfg, const ProcessInfo& proc, Progress& progress) {
  RunOutput out;
  bool found = false;
  for_each_type(RunKinds{}, [&](auto t) {
    using K = typename decltype(t)::type;
    if (found || cfg.mode != K::kName) return;
    found = true;
    out = K::template run<Exec>(cfg, proc, progress);
  });
  return out;
}

}  // namespace nagbench
