#pragma once
// THE list of update rules. Adding one: a folder beside sgd/ with the struct optimizer.hpp describes, and one
// entry here.
#include <string>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/type_list.hpp"
#include "nagbench/optim/gd/gd.hpp"
#include "nagbench/optim/heavy_ball/heavy_ball.hpp"
#include "nagbench/optim/nesterov1983/nesterov1983.hpp"
#include "nagbench/optim/sgd/sgd.hpp"

namespace nagbench {

using Optimizers = TypeList<sgd::Sgd, gd::Gd, heavy_ball::HeavyBall, nesterov1983::Nesterov1983>;

// Calls f(Tag<Opt>{}) for the optimizer named `name`; throws InputError naming the known ones otherwise.
template <class F>
void with_optimizer(const std::string& name, F&& f) {
  const bool found = with_named_type(
      Optimizers{}, name, [](auto t) { return std::string(decltype(t)::type::kName); }, f);
  if (!found) {
    std::string known;
    for_each_type(Optimizers{}, [&](auto t) {
      known += (known.empty() ? "" : ", ") + std::string(decltype(t)::type::kName);
    });
    throw InputError("unknown optimizer '" + name + "' (choose " + known + ")");
  }
}

struct OptimizerInfo {
  std::string name, summary;
  std::vector<HyperParam> params;
};
std::vector<OptimizerInfo> optimizer_catalog();

}  // namespace nagbench
