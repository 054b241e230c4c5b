#include "nagbench/comm/registry.hpp"

#include "nagbench/core/errors.hpp"

namespace nagbench {

void release_nccl();  // nccl.cpp

void release_communicators() {
  release_nccl();
}

std::vector<CommBackendInfo> comm_backend_catalog() {
  std::vector<CommBackendInfo> out;
  for_each_type(CommBackends{}, [&](auto t) {
    using B = typename decltype(t)::type;
    out.push_back({B::kName, B::kSummary, B::compiled_in()});
  });
  return out;
}

void check_comm(const std::string& name, const CommRequest& request) {
  bool found = false;
  std::string problem, known;
  for_each_type(CommBackends{}, [&](auto t) {
    using B = typename decltype(t)::type;
    known += (known.empty() ? "" : ", ") + std::string(B::kName);
    if (name != B::kName) return;
    found = true;
    problem = B::problem(request);
  });
  if (!found) throw InputError("unknown --comm '" + name + "' (choose " + known + ")");
  if (!problem.empty()) throw InputError(problem);
}

}  // namespace nagbench
