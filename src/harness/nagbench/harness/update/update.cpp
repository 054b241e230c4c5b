#include "nagbench/harness/update/update.hpp"

#include <cstdio>
#include <sstream>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/format.hpp"
#include "nagbench/harness/record_common.hpp"
#include "nagbench/harness/rule_checks.hpp"
#include "nagbench/harness/run_kinds.hpp"
#include "nagbench/harness/sizing.hpp"
#include "nagbench/harness/typed.hpp"
#include "nagbench/optim/variants/variant.hpp"

namespace nagbench {

void UpdateRun::validate(const Config& cfg, int ranks) {
  validate_rule_configuration(cfg, ranks);
  // One graph per first-step flag serves the run (update_impl.hpp), so the rule must not change after.
  if (cfg.launch == "graph") check_rule_replayable(cfg);
}

int64_t UpdateRun::memory_needed(const Config& cfg, const DeviceInfo& dev, int) {
  const auto sum = [](int64_t a, int64_t b) { return checked_add(a, b, "the memory this run needs"); };
  const int64_t roof = checked_mul(roof_bytes_per_array(cfg, dev), 3, "the roof arrays");
  const int64_t arenas =
      arena_bytes(configuration_arena(cfg), parse_dtype(cfg.dtype), configuration_states(cfg));
  return sum(sum(arenas, roof), eviction_bytes(cfg, dev));
}

nlohmann::json update_record(const Config& cfg, const ProcessInfo& proc, const UpdateResult& r) {
  nlohmann::json j = common_fields(cfg, proc, "update", r.device);
  j.update({{"params", r.params},
            {"tensors", r.tensors},
            {"median_s", r.update_s.median},
            {"min_s", r.update_s.min},
            {"max_s", r.update_s.max},
            {"mean_s", r.update_s.mean},
            {"reps", r.update_s.count},
            {"params_per_s", r.params_per_s},
            {"bytes_per_param", r.bytes_per_param},
            {"eff_GBps", r.eff_GBps},
            {"copy_GBps", r.roof.copy_GBps},
            {"nstream_GBps", r.roof.nstream_GBps},
            {"roof_GBps", r.roof.roof_GBps},
            {"pct_of_roof", r.pct_of_roof},
            {"suspect", r.suspect},
            {"verified", r.verify.passed},
            {"params_hash", r.verify.params_hash},
            {"gradient_median_s", r.gradient_s.median},
            {"roof",
             {{"bytes_per_array", r.roof.bytes_per_array},
              {"reps", r.roof.reps},
              {"stable", r.roof.stable},
              {"copy_kernel_GBps", r.roof.copy_kernel_GBps},
              {"copy_library_GBps", r.roof.copy_library_GBps},
              {"roof_from", r.roof.roof_from}}},
            {"verification", verification_json(r.verify)},
            {"arena_bytes", r.arena_bytes},
            {"evict_bytes", r.evict_bytes},
            {"launch", cfg.launch}});
  return j;
}

std::string update_table(const Config& cfg, const UpdateResult& r) {
  std::ostringstream o;
  const auto& d = r.device;
  o << "nagbench update | " << cfg.model.name << " (" << format_count(r.params) << " params, " << r.tensors
    << " tensors) | " << cfg.dtype << " | variant " << cfg.variant << "\n";
  o << "backend " << cfg.backend << " on " << d.name;
  if (d.kind == "gpu")
    o << " [" << d.uuid << "]";
  else
    o << " (" << d.threads << " threads)";
  o << " | Kokkos " << kokkos_version_string() << " | " << cfg.optimizer << " " << r.rule_description << " ("
    << cfg.rule_mode << " arithmetic)\n";
  o << "roof: copy " << format_fixed(r.roof.copy_GBps, 1) << " GB/s, nstream "
    << format_fixed(r.roof.nstream_GBps, 1) << " GB/s -> roof " << format_fixed(r.roof.roof_GBps, 1)
    << " GB/s (" << r.roof.roof_from << ", 3 x " << format_bytes_binary(double(r.roof.bytes_per_array))
    << ")\n\n";
  o << "  metric              median        min        max\n";
  auto row = [&](const char* name, double med, double mn, double mx, bool time) {
    char buf[160];
    if (time)
      std::snprintf(buf, sizeof(buf), "  %-16s %10s %10s %10s\n", name, format_seconds(med).c_str(),
                    format_seconds(mn).c_str(), format_seconds(mx).c_str());
    else
      std::snprintf(buf, sizeof(buf), "  %-16s %10.4g %10.4g %10.4g\n", name, med, mn, mx);
    o << buf;
  };
  const double bytes = double(r.bytes_per_param) * double(r.params);
  row("update time", r.update_s.median, r.update_s.min, r.update_s.max, true);
  row("params/s", r.params_per_s, double(r.params) / r.update_s.max, double(r.params) / r.update_s.min,
      false);
  row("eff GB/s", r.eff_GBps, bytes / r.update_s.max / 1e9, bytes / r.update_s.min / 1e9, false);
  o << "\n  " << format_fixed(r.pct_of_roof, 1) << "% of roof (" << r.bytes_per_param << " B/param, "
    << r.update_s.count << " timed steps; gradient production " << format_seconds(r.gradient_s.median)
    << " per step, not counted" << (r.evict_bytes == 0 ? "; caches warm, --evict-mib 0" : "")
    << (cfg.launch == "graph" ? "; replayed from a CUDA graph, --launch graph" : "") << ")";
  if (r.suspect) o << "  ** SUSPECT: above 105% of the roof **";
  o << "\n";
  if (r.verify.mode == "off") {
    o << "verified: no (--verify off)\n";
  } else {
    o << "verified: " << (r.verify.passed ? "yes" : "NO") << " (" << r.verify.mode << ", "
      << format_count(r.verify.checked) << " params, worst error " << format_fixed(r.verify.worst_ratio, 3)
      << " x tolerance";
    if (!r.verify.passed)
      o << "; " << format_count(r.verify.mismatches) << " mismatches, e.g. " << r.verify.worst_what << "["
        << r.verify.worst_index << "] = " << r.verify.worst_got << ", want " << r.verify.worst_want;
    o << ")\n";
  }
  return o.str();
}

}  // namespace nagbench
