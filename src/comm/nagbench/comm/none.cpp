// --comm none: a single rank, no communication; the baseline of every scaling figure.
#include "nagbench/comm/registry.hpp"
#include "nagbench/core/enabled_backends.hpp"

namespace nagbench {
namespace {

template <class Exec>
class NoComm final : public Communicator<Exec> {
 public:
  std::string name() const override { return "none"; }
  std::string path() const override { return "none"; }
  void setup(const CommSetup&) override {}
  void start_reduction(int, const ExecEvent<Exec>&) override {}
  void wait_reduction(int, const Exec&) override {}
  void start_gather(int, const Exec&) override {}
  void finish() override {}
  int64_t reduced_slice_offset(int) const override { return 0; }
  void allreduce(const void*, void*, int64_t, ElemType) override {}
  void synchronize() override {}
};

}  // namespace

bool NoneBackend::compiled_in() {
  return true;
}

std::string NoneBackend::problem(const CommRequest& r) {
  if (r.ranks > 1)
    return "--comm none runs a single rank, but this job has " + std::to_string(r.ranks) +
           " ranks; choose --comm mpi or nccl";
  return "";
}

template <class Exec>
std::unique_ptr<Communicator<Exec>> NoneBackend::make(const CommSpaces<Exec>&, const CommOptions&,
                                                      const ProcessInfo&) {
  return std::make_unique<NoComm<Exec>>();
}

#define NAGBENCH_INSTANTIATE(Exec)                                      \
  template std::unique_ptr<Communicator<Exec>> NoneBackend::make<Exec>( \
      const CommSpaces<Exec>&, const CommOptions&, const ProcessInfo&);
NAGBENCH_FOR_EACH_BACKEND(NAGBENCH_INSTANTIATE)

}  // namespace nagbench
