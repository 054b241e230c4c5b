#pragma once
// THE bytes of every bandwidth figure: the minimum bytes an update step must move per parameter, derived from
// the dtype layout and the update rule's list of state arrays (each rule says which of its arrays a
// steady-state step reads and writes). Each input read once, each output written once; a variant that makes
// extra passes is charged the same bytes and so shows a lower GB/s. Nothing else in nagbench counts bytes.
// See docs/metrics.md.
#include <string>
#include <vector>

#include "nagbench/optim/dtype.hpp"

namespace nagbench {

// One per-parameter state array of an update rule, and what a steady-state step (not the first) does with it.
struct StateUse {
  std::string name;  // "momentum_buffer"
  bool read = true;
  bool written = true;
};

struct BytesPerParam {
  int param_read = 0, param_write = 0;
  int master_read = 0, master_write = 0;
  int grad_read = 0;
  int state_read = 0, state_write = 0;  // over every state array
  int total() const {
    return param_read + param_write + master_read + master_write + grad_read + state_read + state_write;
  }
};

// p is read unless the layout keeps an fp32 master (then p is only written, the master read and written); g
// read; each state array read and/or written as the rule says, in the layout's state type.
BytesPerParam min_bytes_per_param(DtypeLayout dtype, const std::vector<StateUse>& states);

// "fp32 p r/w, g r, fp32 momentum_buffer r/w": the row in words, for --list-variants and docs.
std::string describe_bytes(DtypeLayout dtype, const std::vector<StateUse>& states);

}  // namespace nagbench
