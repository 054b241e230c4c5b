#include "nagbench/optim/arena.hpp"

#include <string>

#include "nagbench/core/checked.hpp"

namespace nagbench {

ArenaLayout ArenaLayout::for_sizes(const std::vector<int64_t>& numels) {
  ArenaLayout a;
  int64_t offset = 0;
  for (int64_t n : numels) {
    a.tensors.push_back({offset, n});
    a.params = checked_add(a.params, n, "the number of parameters");
    offset = checked_add(offset, checked_round_up(n, kAlignElements, "a tensor"), "the parameter arena");
  }
  a.length = offset;
  return a;
}

int64_t arena_bytes(const ArenaLayout& layout, DtypeLayout dtype, int states) {
  int64_t per = 0;  // bytes per arena element over every array
  with_layout(dtype, [&](auto L) {
    using Lt = decltype(L);
    per = int64_t(sizeof(typename Lt::param_t) + sizeof(typename Lt::grad_t) +
                  (Lt::has_master ? sizeof(float) : 0) + size_t(states) * sizeof(typename Lt::state_t));
  });
  return checked_mul(per, layout.length,
                     "the optimizer state of " + std::to_string(layout.params) + " parameters");
}

}  // namespace nagbench
