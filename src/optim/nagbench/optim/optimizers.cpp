#include "nagbench/optim/optimizers.hpp"

namespace nagbench {

std::vector<OptimizerInfo> optimizer_catalog() {
  std::vector<OptimizerInfo> out;
  for_each_type(Optimizers{}, [&](auto t) {
    using Opt = typename decltype(t)::type;
    out.push_back({Opt::kName, Opt::kSummary, Opt::hyper_params()});
  });
  return out;
}

}  // namespace nagbench
