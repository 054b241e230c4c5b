#include "bench_update.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>

#include "nagbench/core/backends.hpp"

namespace nagbench::bench {

void register_all(const Options& opt_in) {
  Options opt = opt_in;
  const auto compiled = compiled_backend_names();
  if (opt.backends.empty()) {  // every compiled backend, serial only when there is no OpenMP
    for (const auto& b : compiled)
      if (b != "serial" || std::find(compiled.begin(), compiled.end(), "openmp") == compiled.end())
        opt.backends.push_back(b);
  }
  for_each_type(EnabledExecSpaces{}, [&](auto t) {
    using Exec = typename decltype(t)::type;
    const std::string name = backend_name<Exec>();
    if (std::find(opt.backends.begin(), opt.backends.end(), name) != opt.backends.end())
      register_backend<Exec>(name, opt);
  });
}

}  // namespace nagbench::bench
