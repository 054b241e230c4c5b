#pragma once
// THE list of workloads. Adding one: a folder beside synthetic/ and one entry here.
#include <string>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/type_list.hpp"
#include "nagbench/workload/logreg/logreg.hpp"
#include "nagbench/workload/mlp/mlp.hpp"
#include "nagbench/workload/quadratic/quadratic.hpp"
#include "nagbench/workload/synthetic/synthetic.hpp"

namespace nagbench {

using Workloads = TypeList<synthetic::Synthetic, quadratic::Quadratic, logreg::Logreg, mlp::Mlp>;

// Calls f(Tag<W>{}) for the workload named `name`; throws InputError naming the known ones otherwise.
template <class F>
void with_workload(const std::string& name, F&& f) {
  const bool found = with_named_type(
      Workloads{}, name, [](auto t) { return std::string(decltype(t)::type::kName); }, f);
  if (!found) {
    std::string known;
    for_each_type(Workloads{}, [&](auto t) {
      known += (known.empty() ? "" : ", ") + std::string(decltype(t)::type::kName);
    });
    throw InputError("unknown workload '" + name + "' (choose " + known + ")");
  }
}

// The parameter tensor sizes of a workload, without any device (for planning and memory checks).
inline ArenaLayout workload_arena(const WorkloadSpec& spec) {
  ArenaLayout layout;
  with_workload(spec.name,
                [&](auto t) { layout = ArenaLayout::for_sizes(decltype(t)::type::tensor_sizes(spec)); });
  return layout;
}

// The workload's replay source for a layout (null when its gradients depend on the parameters).
template <class Layout>
std::unique_ptr<ReplaySource> workload_replay(const WorkloadSpec& spec) {
  std::unique_ptr<ReplaySource> out;
  with_workload(spec.name, [&](auto t) { out = decltype(t)::type::template replay<Layout>(spec); });
  return out;
}

}  // namespace nagbench

namespace nagbench {

// This rank's instance of the workload `spec` names, on execution space Exec with dtype layout Layout.
template <class Exec, class Layout>
std::unique_ptr<Workload<Exec, Layout>> make_workload(const WorkloadSpec& spec, const ProcessInfo& proc) {
  std::unique_ptr<Workload<Exec, Layout>> out;
  with_workload(spec.name, [&](auto t) { out = decltype(t)::type::template make<Exec, Layout>(spec, proc); });
  return out;
}

}  // namespace nagbench
