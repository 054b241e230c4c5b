#include <string>

#include "nagbench/core/errors.hpp"
#include "nagbench/optim/variants/variant.hpp"

namespace nagbench {

const std::vector<VariantInfo>& variant_catalog() {
#ifdef NAGBENCH_HAVE_KOKKOSKERNELS
  constexpr bool have_kk = true;
#else
  constexpr bool have_kk = false;
#endif
  static const std::vector<VariantInfo> catalog = {
      {"naive", "one RangePolicy parallel_for per tensor, one element per index", false, true},
      {"fused", "tuned single pass per tensor: 16-byte vector loads on GPUs, blocked loops on CPUs", false,
       true},
      {"multi_tensor", "one launch for all tensors through a device-side chunk table", false, true},
      // Kokkos Kernels' calls run on the default instance (Kokkos 3.4's legacy stream) and fence.
      {"unfused", "Kokkos Kernels BLAS-1 calls (update, axpby), one pass per term", true, have_kk, false},
  };
  return catalog;
}

void check_variant(const std::string& name, DtypeLayout dtype) {
  std::string names;
  for (const auto& v : variant_catalog()) {
    if (v.available) names += (names.empty() ? "" : ", ") + v.name;
    if (v.name != name) continue;
    if (!v.available) throw InputError("variant '" + name + "' was not compiled in (needs Kokkos Kernels)");
    if (v.fp32_fp64_only && dtype != DtypeLayout::fp32 && dtype != DtypeLayout::fp64)
      throw InputError("variant '" + name + "' supports fp32 and fp64 only (got " + dtype_name(dtype) + ")");
    return;
  }
  throw InputError("unknown variant '" + name + "' (choose " + names + ")");
}

void check_variant_capturable(const std::string& name) {
  for (const auto& v : variant_catalog())
    if (v.name == name && !v.capturable)
      throw InputError("--launch graph: variant '" + name +
                       "' enqueues work off the instance it is given, which a CUDA graph cannot capture");
}

}  // namespace nagbench
