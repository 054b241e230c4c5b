#include "nagbench/comm/communicator.hpp"

#include "nagbench/core/errors.hpp"

namespace nagbench {

std::unique_ptr<Communicator> make_no_comm();
std::unique_ptr<Communicator> make_mpi_comm(const CommOptions& opt, const ProcessInfo& proc);
std::unique_ptr<Communicator> make_nccl_comm(const CommOptions& opt, const ProcessInfo& proc);
void release_nccl();

void release_communicators() {
  release_nccl();
}

std::unique_ptr<Communicator> make_communicator(const CommOptions& opt, const ProcessInfo& proc) {
  if (opt.comm == "none") return make_no_comm();
  if (opt.comm == "mpi") return make_mpi_comm(opt, proc);
  if (opt.comm == "nccl") return make_nccl_comm(opt, proc);
  throw InputError("unknown --comm '" + opt.comm + "' (choose none, mpi or nccl)");
}

}  // namespace nagbench
