#pragma once
// Dtype layouts: which storage type each array of the update uses. A layout is a traits struct so kernels are
// written once; DtypeLayout is its run-time name.
#include <string>
#include <vector>

#include "nagbench/optim/bf16.hpp"

namespace nagbench {

enum class DtypeLayout { fp32, fp64, bf16, bf16_master };

// Every layout: p = parameters as the model sees them, g = gradients, state = the optimizer's per-parameter
// state arrays (SGD's momentum buffer; each rule lists its own), master = the fp32 master copy of p that
// mixed-precision training updates (only bf16_master has one; there p is written, not read). compute_t is
// what kernels compute in.
struct LayoutFp32 {
  using param_t = float;
  using grad_t = float;
  using state_t = float;
  using compute_t = float;
  static constexpr bool has_master = false;
  static constexpr DtypeLayout id = DtypeLayout::fp32;
};
struct LayoutFp64 {
  using param_t = double;
  using grad_t = double;
  using state_t = double;
  using compute_t = double;
  static constexpr bool has_master = false;
  static constexpr DtypeLayout id = DtypeLayout::fp64;
};
struct LayoutBf16 {
  using param_t = bf16;
  using grad_t = bf16;
  using state_t = float;
  using compute_t = float;
  static constexpr bool has_master = false;
  static constexpr DtypeLayout id = DtypeLayout::bf16;
};
struct LayoutBf16Master {
  using param_t = bf16;
  using grad_t = bf16;
  using state_t = float;
  using compute_t = float;
  static constexpr bool has_master = true;
  static constexpr DtypeLayout id = DtypeLayout::bf16_master;
};

const char* dtype_name(DtypeLayout d);             // "fp32", "fp64", "bf16", "bf16_master"
DtypeLayout parse_dtype(const std::string& name);  // throws InputError naming the valid choices
const std::vector<std::string>& dtype_names();

// Calls f(LayoutX{}) for the layout named at run time.
template <class F>
decltype(auto) with_layout(DtypeLayout d, F&& f) {
  switch (d) {
    case DtypeLayout::fp64:
      return f(LayoutFp64{});
    case DtypeLayout::bf16:
      return f(LayoutBf16{});
    case DtypeLayout::bf16_master:
      return f(LayoutBf16Master{});
    case DtypeLayout::fp32:
    default:
      return f(LayoutFp32{});
  }
}

}  // namespace nagbench
