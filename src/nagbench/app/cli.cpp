#include "nagbench/app/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <iostream>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/json_io.hpp"
#include "nagbench/core/provenance.hpp"
#include "nagbench/harness/backend.hpp"
#include "nagbench/harness/record.hpp"
#include "nagbench/optim/bytes_table.hpp"
#include "nagbench/optim/variants/variant.hpp"

namespace nagbench {

int64_t parse_count(const std::string& text, const std::string& what) {
  const auto bad = [&]() {
    return InputError(what + " must be a positive count like 268435456, 2^28 or 1e6 (got '" + text + "')");
  };
  try {
    size_t pos = 0;
    const auto caret = text.find('^');
    if (caret != std::string::npos) {
      const long long base = std::stoll(text.substr(0, caret), &pos);
      if (pos != caret) throw bad();
      const std::string e = text.substr(caret + 1);
      const long long exp = std::stoll(e, &pos);
      if (pos != e.size() || base < 1 || exp < 0 || exp > 62) throw bad();
      const double v = std::pow(double(base), double(exp));
      if (v > 9.0e18) throw bad();
      return static_cast<int64_t>(std::llround(v));
    }
    const double v = std::stod(text, &pos);
    if (pos != text.size() || !std::isfinite(v) || v != std::floor(v) || v > 9.0e18) throw bad();
    return static_cast<int64_t>(v);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception&) {
    throw bad();
  }
}

int64_t parse_bytes(const std::string& text, const std::string& what) {
  static const std::pair<const char*, int64_t> suffixes[] = {
      {"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}};
  for (const auto& [suffix, mult] : suffixes) {
    const std::string sfx = suffix;
    if (text.size() > sfx.size() && text.compare(text.size() - sfx.size(), sfx.size(), sfx) == 0)
      return parse_count(text.substr(0, text.size() - sfx.size()), what) * mult;
  }
  return parse_count(text, what);
}

namespace {
bool parse_on_off(const std::string& v, const std::string& what) {
  if (v == "on" || v == "true" || v == "1") return true;
  if (v == "off" || v == "false" || v == "0") return false;
  throw InputError(what + " takes on or off (got '" + v + "')");
}
}  // namespace

static CliOutcome& finish_plan(CliOutcome& out) {
  check_output_path_writable(out.plan.configs.front().output);
  return out;
}

CliOutcome parse_command_line(int argc, char** argv, const std::string& exe_dir, int ranks) {
  CliOutcome out;
  Config base;
  Config& c = base;
  c.command_line = joined_command_line(argc, argv);

  CLI::App app{
      "nagbench: data-parallel Nesterov (torch.optim.SGD) optimizer kernels in Kokkos.\n"
      "Measures the update step of a model's parameter list against the memory roof of the same device, and "
      "checks\n"
      "the result against a float64 reference. Results: a table on stdout, a JSON record with --output.",
      "nagbench"};
  app.allow_extras();  // --kokkos-* arguments pass through to Kokkos
  std::string backend = backend_name(default_backend());
  std::vector<std::string> models = {"resnet50"}, variants = {"fused"}, dtypes = {"fp32"}, comms;
  std::vector<std::string> shardings = {"replicated"}, overlaps = {"on"}, comm_priorities = {"high"};
  std::vector<double> bucket_mbs = {25};
  std::string params_text, params_per_rank_text, comm_min = "1M", comm_max = "1G";
  std::vector<std::string> comm_sizes_text;
  bool comm_only = false, shard_flag = false, no_overlap_flag = false;
  bool list_models = false, list_variants = false, version = false;

  app.add_option(
         "-b,--backend", backend,
         "Execution space: " +
             [] {
               std::string s;
               for (const auto& n : compiled_backend_names())
                 s += (s.empty() ? "" : "|") + n;
               return s;
             }() +
             " (compiled into this binary)")
      ->capture_default_str();
  app.add_option(
         "-m,--model", models,
         "Model(s), comma-separated: shipped names (see --list-models) or paths to .yaml tensor lists")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--params", params_text, "Instead of --model: one flat tensor of N parameters (e.g. 2^28)");
  app.add_option(
      "--params-per-rank", params_per_rank_text,
      "Instead of --model: one flat tensor of N x ranks parameters (weak scaling of sharded runs)");
  app.add_option("-v,--variant", variants, "Update kernel variant(s) (see --list-variants)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-d,--dtype", dtypes, "Dtype layout(s): fp32|fp64|bf16|bf16_master")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--lr", c.hyper.lr, "Learning rate")->capture_default_str();
  app.add_option("--momentum", c.hyper.momentum, "Momentum, 0 <= mu < 1")->capture_default_str();
  app.add_option("--dampening", c.hyper.dampening, "Dampening (must be 0 with Nesterov)")
      ->capture_default_str();
  app.add_option("--weight-decay", c.hyper.weight_decay, "L2 weight decay")->capture_default_str();
  app.add_flag("--nesterov,!--no-nesterov", c.hyper.nesterov, "Nesterov momentum (default on)");
  app.add_flag("--maximize", c.hyper.maximize, "Maximize the objective (negate the gradient)");
  app.add_option("-n,--steps", c.steps, "Timed steps")->capture_default_str();
  app.add_option("--warmup", c.warmup, "Untimed warm-up steps after the first step (which is never timed)")
      ->capture_default_str();
  app.add_option("--seed", c.seed, "Seed of the synthetic parameters and gradients")->capture_default_str();
  app.add_option("--verify", c.verify,
                 "Correctness check: auto (full when cheap, else sampled) | full | sample | off")
      ->capture_default_str();
  app.add_option("--roof-mib", c.roof_mib,
                 "MiB per roof array (default: 8x the last-level cache, >= 256 MiB)");
  app.add_option("--roof-reps", c.roof_reps, "Repetitions of each roof kernel")->capture_default_str();
  app.add_option(
      "-o,--output", c.output,
      "Write the JSON record to FILE (atomically); a list of records when the launch runs several");
  auto* dp = "Data parallelism (any of these, or more than one rank, selects the data-parallel step)";
  app.add_option("--comm", comms, "Gradient allreduce backend(s): none|mpi|nccl")->delimiter(',')->group(dp);
  app.add_option("--mpi-path", c.mpi_path,
                 "With --comm mpi and GPU memory: auto (CUDA-aware if MPI says so) | staged | cuda-aware")
      ->capture_default_str()
      ->group(dp);
  app.add_flag("--shard", shard_flag,
               "Sharded update: reduce-scatter, update 1/N of the parameters, all-gather")
      ->group(dp);
  app.add_option("--sharding", shardings, "replicated|sharded, comma-separated to run both")
      ->delimiter(',')
      ->group(dp);
  app.add_option("--overlap", overlaps, "on|off: update bucket k while bucket k+1 is reduced (default on)")
      ->delimiter(',')
      ->group(dp);
  app.add_flag("--no-overlap", no_overlap_flag, "Same as --overlap off")->group(dp);
  app.add_option(
         "--comm-priority", comm_priorities,
         "CUDA: high|normal priority of the communication stream over the update stream (default high)")
      ->delimiter(',')
      ->group(dp);
  app.add_option("--bucket-mb", bucket_mbs, "MiB of gradients per bucket, one allreduce each (default 25)")
      ->delimiter(',')
      ->group(dp);
  app.add_flag("--allow-gpu-sharing", c.allow_gpu_sharing, "Allow more ranks on a node than GPUs")->group(dp);
  app.add_flag("--comm-only", comm_only, "Allreduce sweep only, reported like nccl-tests")->group(dp);
  app.add_option("--comm-min", comm_min, "--comm-only: smallest message, bytes (e.g. 1M)")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--comm-max", comm_max, "--comm-only: largest message, bytes (e.g. 4G); sizes double")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--comm-sizes", comm_sizes_text, "--comm-only: explicit message sizes instead of the sweep")
      ->delimiter(',')
      ->group(dp);
  app.add_option("--comm-iters", c.comm_iters, "--comm-only: back-to-back allreduces per timed repetition")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--comm-reps", c.comm_reps, "--comm-only: timed repetitions (median reported)")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--debug-skip-bucket", c.debug_skip_bucket, "tests only: leave one bucket unreduced")
      ->group("");
  app.add_flag("-q,--quiet", c.quiet, "No progress lines on stderr");
  app.add_flag("--list-models", list_models, "List the shipped models and exit");
  app.add_flag("--list-variants", list_variants, "List the update variants and the bytes table, and exit");
  app.add_flag("--version", version, "Print version, git commit and Kokkos version, and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    out.kind = CliOutcome::Kind::exit_ok;
    return out;
  } catch (const CLI::ParseError& e) {
    throw InputError(e.what());
  }
  for (const auto& extra : app.remaining()) {
    if (extra.rfind("--kokkos-", 0) != 0)
      throw InputError("unexpected argument '" + extra + "' (see --help)");
    out.kokkos_args.push_back(extra);
  }

  if (version) {
    std::cout << "nagbench " << NAGBENCH_VERSION << " (git " << git_commit() << (git_dirty() ? ", dirty" : "")
              << "), Kokkos " << kokkos_version_string() << "\n";
    out.kind = CliOutcome::Kind::exit_ok;
    return out;
  }
  if (list_models) {
    for (const auto& n : shipped_model_names(exe_dir)) {
      const ModelSpec m = load_model(n, exe_dir);
      std::cout << n << ": " << m.tensors.size() << " tensors, " << m.params << " params - " << m.description
                << "\n";
    }
    out.kind = CliOutcome::Kind::exit_ok;
    return out;
  }
  if (list_variants) {
    for (const auto& v : variant_catalog())
      std::cout << v.name << (v.available ? "" : " (not compiled in)") << ": " << v.summary << "\n";
    std::cout << "\nminimum bytes per parameter (with momentum / without), charged to every variant:\n";
    for (const auto& row : kMinBytesPerParam)
      std::cout << "  " << dtype_name(row.layout) << ": " << row.total(true) << " / " << row.total(false)
                << "  (" << row.what << ")\n";
    out.kind = CliOutcome::Kind::exit_ok;
    return out;
  }

  c.backend = backend_name(parse_backend(backend));
  const int given =
      int(!params_text.empty()) + int(!params_per_rank_text.empty()) + int(app.count("--model") > 0);
  if (given > 1) throw InputError("give one of --model, --params and --params-per-rank");
  std::vector<ModelSpec> model_specs;
  if (!params_text.empty()) {
    model_specs.push_back(flat_model(parse_count(params_text, "--params")));
  } else if (!params_per_rank_text.empty()) {
    model_specs.push_back(flat_model(parse_count(params_per_rank_text, "--params-per-rank") * ranks));
  } else {
    for (const auto& m : models)
      model_specs.push_back(load_model(m, exe_dir));
  }
  if (shard_flag) shardings = {"sharded"};
  if (no_overlap_flag) overlaps = {"off"};
  const bool comm_given = !comms.empty();
  if (comms.empty()) comms = {"none"};
  for (const auto& sh : shardings)
    if (sh != "replicated" && sh != "sharded")
      throw InputError("--sharding takes replicated and/or sharded (got '" + sh + "')");
  const bool any_shard = std::find(shardings.begin(), shardings.end(), "sharded") != shardings.end();
  c.mode = comm_only ? "comm_only" : ((ranks > 1 || comm_given || any_shard) ? "dp" : "update");
  if (comm_only) {
    if (!comm_sizes_text.empty()) {
      for (const auto& t : comm_sizes_text)
        c.comm_sizes.push_back(parse_bytes(t, "--comm-sizes"));
    } else {
      const int64_t lo = parse_bytes(comm_min, "--comm-min"), hi = parse_bytes(comm_max, "--comm-max");
      if (lo < 4 || hi < lo) throw InputError("--comm-min and --comm-max need 4 <= min <= max");
      for (int64_t b = lo; b <= hi; b *= 2)
        c.comm_sizes.push_back(b);
    }
  }
  if (comm_only) {  // one sweep per communication backend
    for (const auto& cm : comms) {
      Config k = base;
      k.model = model_specs.front();
      k.comm = cm;
      validate(k, ranks);
      out.plan.configs.push_back(std::move(k));
    }
    return finish_plan(out);
  }
  // Every combination of the list-valued options, in a fixed order; each is validated before anything runs.
  for (const auto& m : model_specs)
    for (const auto& d : dtypes)
      for (const auto& v : variants)
        for (const auto& cm : comms)
          for (const auto& sh : shardings)
            for (const auto& ov : overlaps)
              for (const auto& pr : comm_priorities)
                for (double bmb : bucket_mbs) {
                  Config k = base;
                  k.model = m;
                  k.dtype = d;
                  k.variant = v;
                  k.comm = cm;
                  k.shard = sh == "sharded";
                  k.overlap = parse_on_off(ov, "--overlap");
                  if (pr != "high" && pr != "normal")
                    throw InputError("--comm-priority takes high and/or normal (got '" + pr + "')");
                  k.comm_high_priority = pr == "high";
                  k.bucket_mb = bmb;
                  validate(k, ranks);
                  out.plan.configs.push_back(std::move(k));
                }
  return finish_plan(out);
}

}  // namespace nagbench
