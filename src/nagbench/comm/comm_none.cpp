// --comm none: a single rank, no communication; the baseline of every scaling figure.
#include <cstring>

#include "nagbench/comm/communicator.hpp"

namespace nagbench {

class NoComm final : public Communicator {
 public:
  std::string name() const override { return "none"; }
  std::string path() const override { return "none"; }
  void setup(const CommSetup&) override {}
  void start_reductions() override {}
  void wait_reduction(int) override {}
  void start_gather(int) override {}
  void finish() override {}
  int64_t reduced_slice_offset(int) const override { return 0; }
  void allreduce(const void*, void*, int64_t, ElemType) override {}
  void synchronize() override {}
};

std::unique_ptr<Communicator> make_no_comm() {
  return std::make_unique<NoComm>();
}

}  // namespace nagbench
