#pragma once
// From a configuration's names to types: calls f(Tag<Opt>{}, Layout{}) with the update rule and dtype layout
// the configuration names (both checked before any run starts).
#include "nagbench/harness/config.hpp"
#include "nagbench/optim/dtype.hpp"
#include "nagbench/optim/optimizers.hpp"

namespace nagbench {

template <class F>
void with_rule_and_layout(const Config& cfg, F&& f) {
  with_optimizer(cfg.optimizer, [&](auto opt) {
    with_layout(parse_dtype(cfg.dtype), [&](auto layout) { f(opt, layout); });
  });
}

// The rule's hyper-parameters, parsed from the configuration (validated when the configuration was).
template <class Opt>
typename Opt::Hyper hyper_of(const Config& cfg) {
  return Opt::Hyper::from_json(cfg.hyper);
}

}  // namespace nagbench
