#include "nagbench/optim/dtype.hpp"

#include "nagbench/core/errors.hpp"

namespace nagbench {

const std::vector<std::string>& dtype_names() {
  static const std::vector<std::string> names = {"fp32", "fp64", "bf16", "bf16_master"};
  return names;
}

const char* dtype_name(DtypeLayout d) {
  switch (d) {
    case DtypeLayout::fp32:
      return "fp32";
    case DtypeLayout::fp64:
      return "fp64";
    case DtypeLayout::bf16:
      return "bf16";
    case DtypeLayout::bf16_master:
      return "bf16_master";
  }
  return "?";
}

DtypeLayout parse_dtype(const std::string& name) {
  for (auto d : {DtypeLayout::fp32, DtypeLayout::fp64, DtypeLayout::bf16, DtypeLayout::bf16_master})
    if (name == dtype_name(d)) return d;
  throw InputError("unknown dtype '" + name + "' (choose fp32, fp64, bf16 or bf16_master)");
}

}  // namespace nagbench
