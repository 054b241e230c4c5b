#pragma once
// Makes a variant by name. Each variant lives in its own file; adding one means one file and one entry here
// and in variant_catalog() (registry.cpp).
#include <memory>
#include <string>
#include <type_traits>

#include "nagbench/core/errors.hpp"
#include "nagbench/optim/variants/fused.hpp"
#include "nagbench/optim/variants/multi_tensor.hpp"
#include "nagbench/optim/variants/naive.hpp"
#include "nagbench/optim/variants/variant.hpp"
#ifdef NAGBENCH_HAVE_KOKKOSKERNELS
#include "nagbench/optim/variants/unfused_blas.hpp"
#endif

namespace nagbench {

template <class Exec, class Layout, class Rule>
std::unique_ptr<UpdateVariant<Exec, Layout, Rule>> make_variant(const std::string& name) {
  check_variant(name, Layout::id);
  if (name == "naive") return std::make_unique<NaiveVariant<Exec, Layout, Rule>>();
  if (name == "fused") return std::make_unique<FusedVariant<Exec, Layout, Rule>>();
  if (name == "multi_tensor") return std::make_unique<MultiTensorVariant<Exec, Layout, Rule>>();
#ifdef NAGBENCH_HAVE_KOKKOSKERNELS
  if constexpr (std::is_same<typename Layout::param_t, typename Rule::compute_t>::value &&
                std::is_same<typename Layout::grad_t, typename Rule::compute_t>::value &&
                std::is_same<typename Layout::state_t, typename Rule::compute_t>::value) {
    if (name == "unfused") return std::make_unique<UnfusedBlasVariant<Exec, Layout, Rule>>();
  }
#endif
  throw InputError("variant '" + name + "' is not available for dtype " + dtype_name(Layout::id));
}

}  // namespace nagbench
