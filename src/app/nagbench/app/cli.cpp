#include "nagbench/app/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>

#include <map>

#include "nagbench/comm/registry.hpp"
#include "nagbench/core/backends.hpp"
#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/json_io.hpp"
#include "nagbench/core/provenance.hpp"
#include "nagbench/harness/record_common.hpp"
#include "nagbench/harness/rule_checks.hpp"
#include "nagbench/optim/bytes.hpp"
#include "nagbench/optim/optimizers.hpp"
#include "nagbench/optim/variants/variant.hpp"
#include "nagbench/workload/problem.hpp"
#include "nagbench/workload/workloads.hpp"

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
      return checked_mul(parse_count(text.substr(0, text.size() - sfx.size()), what), mult, what);
  }
  return parse_count(text, what);
}

std::vector<std::string> split_list(const std::string& text, const std::string& what) {
  std::vector<std::string> items;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty())
      throw InputError(what + " has an empty item in '" + text + "' (a comma-separated list of names)");
    items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

uint64_t parse_seed(const std::string& text) {
  const auto bad = [&]() {
    return InputError("--seed must be an integer from 0 to 18446744073709551615 (got '" + text + "')");
  };
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos)
    throw bad();
  uint64_t v = 0;
  for (char ch : text) {
    const uint64_t digit = static_cast<uint64_t>(ch - '0');
    if (v > (UINT64_MAX - digit) / 10) throw bad();
    v = v * 10 + digit;
  }
  return v;
}

namespace {
bool parse_on_off(const std::string& v, const std::string& what) {
  if (v == "on" || v == "true" || v == "1") return true;
  if (v == "off" || v == "false" || v == "0") return false;
  throw InputError(what + " takes on or off (got '" + v + "')");
}
}  // namespace

namespace {

std::vector<double> parse_doubles(const std::string& text, const std::string& what) {
  std::vector<double> out;
  for (const auto& item : split_list(text, what)) {
    size_t pos = 0;
    double v = 0;
    try {
      v = std::stod(item, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos != item.size()) throw InputError(what + " takes numbers (got '" + item + "')");
    out.push_back(v);
  }
  return out;
}

// A hyper-parameter option as parsed: its text (numbers) or its value (switches).
struct HyperOption {
  HyperParam param;
  std::string text;
  bool flag_value = false;
};

// The hyper-parameters of rule `name`: its defaults, overridden by the options given. An option given that
// the rule does not take is an error, so a value is never silently ignored.
nlohmann::json hyper_json_for(const std::string& name, const std::vector<OptimizerInfo>& catalog,
                              const std::map<std::string, HyperOption>& options, const CLI::App& app) {
  const OptimizerInfo* rule = nullptr;
  std::string known;
  for (const auto& r : catalog) {
    known += (known.empty() ? "" : ", ") + r.name;
    if (r.name == name) rule = &r;
  }
  if (!rule) throw InputError("unknown optimizer '" + name + "' (choose " + known + ")");
  nlohmann::json h = nlohmann::json::object();
  for (const auto& hp : rule->params)
    h[hp.key] = hp.default_value;
  for (const auto& [flag, o] : options) {
    if (app.count(flag) == 0 && (o.param.negation.empty() || app.count(o.param.negation) == 0)) continue;
    bool taken = false;
    for (const auto& hp : rule->params) {
      if (hp.flag != flag) continue;
      taken = true;
      if (hp.default_value.is_boolean()) {
        h[hp.key] = o.flag_value;
      } else {
        size_t pos = 0;
        double v = 0;
        try {
          v = std::stod(o.text, &pos);
        } catch (const std::exception&) {
          pos = 0;
        }
        if (pos != o.text.size() || o.text.empty())
          throw InputError(flag + " takes a number (got '" + o.text + "')");
        h[hp.key] = v;
      }
    }
    if (!taken) throw InputError(flag + " does not apply to --optimizer " + name);
  }
  return h;
}

std::string compiled_backends_text() {
  std::string s;
  for (const auto& n : compiled_backend_names())
    s += (s.empty() ? "" : "|") + n;
  return s;
}

// Kokkos arguments nagbench passes on, and what each takes. Anything else under --kokkos- is refused:
// Kokkos 3.4 ignores unknown ones silently, and --kokkos-threads=0 silently means "all".
void check_kokkos_argument(const std::string& arg) {
  const auto eq = arg.find('=');
  const std::string key = arg.substr(0, eq), value = eq == std::string::npos ? "" : arg.substr(eq + 1);
  const auto positive = [&](int64_t max) {
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 9 ||
        std::stoll(value) < 1 || std::stoll(value) > max)
      throw InputError(key + " takes an integer from 1 to " + std::to_string(max) + " (got '" + value + "')");
  };
  if (key == "--kokkos-threads" || key == "--kokkos-num-threads") return positive(kMaxHostThreads);
  if (key == "--kokkos-numa" || key == "--kokkos-num-devices" || key == "--kokkos-ndevices")
    return positive(1 << 16);
  if (key == "--kokkos-disable-warnings" || key == "--kokkos-print-configuration") {
    if (eq != std::string::npos) throw InputError(key + " takes no value");
    return;
  }
  if (key == "--kokkos-tools-library" || key == "--kokkos-tools-libs" || key == "--kokkos-tools-args") {
    if (value.empty()) throw InputError(key + " needs a value (" + key + "=...)");
    return;
  }
  if (key == "--kokkos-device-id" || key == "--kokkos-device")
    throw InputError(key + " is not accepted: nagbench gives each rank the GPU of its local rank");
  throw InputError("unknown Kokkos argument '" + arg +
                   "' (accepted: --kokkos-threads=N, --kokkos-numa=N, --kokkos-disable-warnings, "
                   "--kokkos-print-configuration, --kokkos-tools-libs=..., --kokkos-tools-args=...)");
}

}  // namespace

CliOutcome parse_command_line(int argc, char** argv, const std::string& exe_dir, int ranks) {
  CliOutcome out;
  Config base;
  Config& c = base;
  c.command_line = joined_command_line(argc, argv);

  CLI::App app{
      "nagbench: data-parallel Nesterov optimizer kernels in Kokkos (torch.optim.SGD and other rules).\n"
      "Measures the update step of a model's parameter list against the memory roof of the same device, and "
      "checks\n"
      "the result against a float64 reference. Results: a table on stdout, a JSON record with --output.\n"
      "Options marked LIST take comma-separated values; a launch runs every combination of them.",
      "nagbench"};
  app.allow_extras();  // --kokkos-* arguments pass through to Kokkos (checked below)
  std::string backend = default_backend_name();
  std::string models = "resnet50", variants = "fused", dtypes = "fp32", comms, shardings = "replicated",
              overlaps = "on", comm_priorities = "high", bucket_mbs = "25",
              seed_text = std::to_string(c.seed);
  std::string evict_text;  // empty: sized from the last-level cache (Config::evict_mib = -1)
  std::string launches = c.launch;
  std::string update_streams_text = std::to_string(c.update_streams);
  std::string params_text, params_per_rank_text, comm_min = "1M", comm_max = "1G", comm_sizes_text;
  bool comm_only = false, shard_flag = false, no_overlap_flag = false;
  bool list_models = false, list_variants = false, list_optimizers = false, list_workloads = false,
       version = false;
  std::string optimizers = c.optimizer, rule_modes = c.rule_mode;

  app.add_option("-b,--backend", backend, "Execution space: " + compiled_backends_text() + " (compiled in)")
      ->capture_default_str();
  app.add_option("-m,--model", models,
                 "LIST of models: shipped names (see --list-models) or paths to .yaml tensor lists")
      ->capture_default_str();
  app.add_option("--params", params_text, "Instead of --model: one flat tensor of N parameters (e.g. 2^28)");
  app.add_option(
      "--params-per-rank", params_per_rank_text,
      "Instead of --model: one flat tensor of N x ranks parameters (weak scaling of sharded runs)");
  app.add_option("-v,--variant", variants, "LIST of update kernel variants (see --list-variants)")
      ->capture_default_str();
  app.add_option("-d,--dtype", dtypes, "LIST of dtype layouts: fp32|fp64|bf16|bf16_master")
      ->capture_default_str();
  app.add_option("--optimizer", optimizers, "LIST of update rules (see --list-optimizers)")
      ->capture_default_str();
  app.add_option("--rule-mode", rule_modes,
                 "LIST: arithmetic of the update: auto (torch where it runs at speed) | torch (PyTorch's "
                 "order and fused "
                 "multiply-adds: its results, bit for bit) | separate (every operation rounded as written)")
      ->capture_default_str();
  app.add_option("--workload", c.workload, "What produces the gradients (see --list-workloads)")
      ->capture_default_str();
  // Training: a workload with an objective, named by its problem file.
  auto* tr =
      "Training (--problem selects the train run kind: a workload with an objective, trained to a target)";
  std::string problem_text, target_loss_text, optimum_text;
  bool no_theory = false;
  app.add_option("--problem", problem_text,
                 "A problem file (inputs/problems/*.yaml, see --list-problems) or its name: its workload "
                 "(quadratic, logreg, mlp) and settings")
      ->group(tr);
  app.add_option("--batch-size", c.batch_size, "Samples per rank and step (0 = full batch)")
      ->capture_default_str()
      ->group(tr);
  app.add_option("--epochs", c.epochs, "Run this many epochs (0: --steps iterations)")->group(tr);
  app.add_option("--eval-every", c.eval_every,
                 "Evaluate the objective every N steps (default: once per epoch; every step with full batch)")
      ->group(tr);
  app.add_option("--target", c.target,
                 "Stop once the relative gap (f - f*) / (f_0 - f*) <= this (needs f*: known or --optimum)")
      ->group(tr);
  app.add_option("--target-loss", target_loss_text, "Stop once the objective <= this")->group(tr);
  app.add_option("--optimum", optimum_text, "The optimal value f* (e.g. from SciPy), for --target")
      ->group(tr);
  app.add_option("--restart", c.restart,
                 "nesterov1983 adaptive restart: none | gradient | function (O'Donoghue and Candes 2015)")
      ->capture_default_str()
      ->group(tr);
  app.add_option("--data-dir", c.data_dir,
                 "Folder of scikit-learn's data files (default $NAGBENCH_DATA_DIR, else python3-sklearn's)")
      ->group(tr);
  app.add_flag("--tf32,!--no-tf32", c.tf32,
               "GEMMs on GPUs may use TF32 tensor cores (default off: PyTorch's default for matmul)")
      ->group(tr);
  app.add_option("--sm-carveout", c.sm_carveout,
                 "The backward pass's GEMMs on GPUs are planned for this many SMs fewer than the device has, "
                 "left to the reductions that run beside them (cuBLASLt's SM count target)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group(tr);
  app.add_flag("--no-theory", no_theory, "quadratic: skip theory's predicted curve")->group(tr);
  // Every rule's hyper-parameters, each option once; which rule takes which is checked after parsing.
  std::map<std::string, HyperOption> hyper_options;
  const auto catalog = optimizer_catalog();
  for (const auto& rule : catalog)
    for (const auto& hp : rule.params) {
      if (hyper_options.count(hp.flag)) continue;
      HyperOption& o = hyper_options[hp.flag];
      o.param = hp;
      const std::string group = "Update rule " + rule.name;
      if (hp.default_value.is_boolean()) {
        o.flag_value = hp.default_value.get<bool>();
        const std::string names = hp.flag + (hp.negation.empty() ? "" : ",!" + hp.negation);
        app.add_flag(names, o.flag_value, hp.help)->group(group);
      } else {
        o.text = hp.default_value.dump();
        app.add_option(hp.flag, o.text, hp.help)->capture_default_str()->group(group);
      }
    }
  app.add_option("-n,--steps", c.steps, "Timed steps, 1 to " + std::to_string(kMaxSteps))
      ->capture_default_str();
  app.add_option("--warmup", c.warmup,
                 "Untimed warm-up steps after the first step (which is never timed), 0 to " +
                     std::to_string(kMaxSteps))
      ->capture_default_str();
  app.add_option("--seed", seed_text, "Seed of the synthetic parameters and gradients (0 to 2^64-1)")
      ->capture_default_str();
  app.add_option("--verify", c.verify,
                 "Correctness check: auto (full when cheap, else sampled) | full | sample | off")
      ->capture_default_str();
  app.add_option(
      "--roof-mib", c.roof_mib,
      "MiB per roof array, 1 to 1048576 (default: 8x the last-level cache the OS reports for CPU 0, "
      "clamped to 256 MiB .. 4 GiB on CPUs, at least 1 GiB on GPUs, and to a quarter of free memory "
      "over the 3 arrays)");
  app.add_option("--evict-mib", evict_text,
                 "Update benchmark: MiB written before each timed step to evict the caches, 0 to 1048576 "
                 "(default: 4x the last-level cache, 64 MiB .. 1 GiB; 0 times the update with warm caches; "
                 "data-parallel and training steps never evict)");
  app.add_option(
         "--launch", launches,
         "LIST. Update benchmark and data-parallel steps on CUDA: direct (kernels launched one by one) | "
         "graph (each step's update, or its reductions and updates, replays a CUDA graph captured before "
         "the timed steps, as PyTorch's CUDA graphs do; data-parallel: --comm none, nccl or p2p, overlap on)")
      ->capture_default_str();
  app.add_option(
         "--roof-reps", c.roof_reps,
         "Maximum repetitions of each roof kernel (stops early once 5 in a row agree within 1%; a stable "
         "probe before the steps is not repeated after them)")
      ->capture_default_str();
  app.add_option("-o,--output", c.output,
                 "Write the JSON record to FILE: FILE.jsonl appends one line per finished configuration; any "
                 "other name gets one JSON document, rewritten atomically as each configuration finishes");
  app.add_option("--tag", c.tag, "A label stored in every record (sweep runners use it to resume)");
  app.add_option("--timeout", c.timeout_s,
                 "Watchdog: seconds any step or collective may take before the job is aborted (0 = off)")
      ->capture_default_str();
  auto* dp = "Data parallelism (any of these, or more than one rank, selects the data-parallel step)";
  app.add_option("--comm", comms,
                 "LIST of gradient allreduce backends: none|mpi|nccl|p2p (p2p: one node, the reduction fused "
                 "into the update; data-parallel steps only)")
      ->group(dp);
  app.add_option("--mpi-path", c.mpi_path,
                 "With --comm mpi and GPU memory: auto (CUDA-aware if MPI says so) | staged | cuda-aware")
      ->capture_default_str()
      ->group(dp);
  app.add_flag("--shard", shard_flag,
               "Sharded update: reduce-scatter, update 1/N of the parameters, all-gather")
      ->group(dp);
  app.add_option("--sharding", shardings, "LIST: replicated|sharded")->capture_default_str()->group(dp);
  app.add_option("--overlap", overlaps, "LIST: on|off: update bucket k while bucket k+1 is reduced")
      ->capture_default_str()
      ->group(dp);
  app.add_flag("--no-overlap", no_overlap_flag, "Same as --overlap off")->group(dp);
  app.add_option("--comm-priority", comm_priorities,
                 "LIST, CUDA: high|normal priority of the communication stream over the update stream")
      ->capture_default_str()
      ->group(dp);
  app.add_option(
         "--update-streams", update_streams_text,
         "LIST, CUDA: streams the buckets' updates are dealt over (bucket k on stream k mod N; 1 to " +
             std::to_string(kMaxUpdateStreams) +
             "): a small bucket's update no longer waits for the last one's tail")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--bucket-mb", bucket_mbs,
                 "LIST of MiB of gradients per bucket, one allreduce each (1/1024 to 1048576)")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--first-bucket-mb", c.first_bucket_mb,
                 "MiB of the first bucket alone (the last layers' gradients, reduced first; PyTorch DDP: 1); "
                 "0 = --bucket-mb")
      ->capture_default_str()
      ->group(dp);
  app.add_flag(
         "--timeline", c.timeline,
         "After the timed steps, one more (untimed) with device events around each bucket's reduction "
         "and update: the record's timeline, a summary in the table (scripts/plot_timeline.py draws it)")
      ->group(dp);
  app.add_flag("--allow-gpu-sharing", c.allow_gpu_sharing, "Allow more ranks on a node than GPUs")->group(dp);
  app.add_flag("--comm-only", comm_only, "Allreduce sweep only, reported like nccl-tests")->group(dp);
  app.add_option("--comm-min", comm_min, "--comm-only: smallest message, bytes (e.g. 1M)")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--comm-max", comm_max,
                 "--comm-only: largest message, bytes (e.g. 4G, at most 8G); sizes double")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--comm-sizes", comm_sizes_text, "--comm-only: LIST of message sizes instead of the sweep")
      ->group(dp);
  app.add_option("--comm-iters", c.comm_iters, "--comm-only: back-to-back allreduces per timed repetition")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--comm-reps", c.comm_reps, "--comm-only: timed repetitions (median reported)")
      ->capture_default_str()
      ->group(dp);
  app.add_option("--debug-skip-bucket", c.debug_skip_bucket, "tests only: leave one bucket unreduced")
      ->group("");
  app.add_flag("--debug-early-reduce", c.debug_early_reduce,
               "tests only: training reduces the last bucket before the backward has produced it")
      ->group("");
  app.add_option("--debug-stop-rank", c.debug_stop_rank,
                 "tests only: this rank stops itself (SIGSTOP) mid-run")
      ->group("");
  app.add_flag("-q,--quiet", c.quiet, "No progress lines on stderr");
  app.add_flag(
      "--check", c.check_only,
      "Check every configuration (inputs, and memory on this machine) and exit: 0 when all would run, 2 "
      "with the first problem otherwise; runs nothing");
  app.add_flag("--list-models", list_models, "List the shipped models and exit");
  app.add_flag("--list-variants", list_variants, "List the update variants and the bytes table, and exit");
  app.add_flag("--list-optimizers", list_optimizers,
               "List the update rules and their hyper-parameters, and exit");
  app.add_flag("--list-workloads", list_workloads, "List the workloads, and exit");
  bool list_problems = false;
  app.add_flag("--list-problems", list_problems, "List the shipped problem files, and exit");
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
    check_kokkos_argument(extra);
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
    std::cout << "\nminimum bytes per parameter, charged to every variant (derived from each rule's state "
                 "arrays):\n";
    for_each_type(Optimizers{}, [&](auto t) {
      using Opt = typename decltype(t)::type;
      const typename Opt::Hyper defaults;
      std::cout << "  " << Opt::kName << " (" << defaults.describe() << "):\n";
      for (const auto& d : dtype_names()) {
        const DtypeLayout layout = parse_dtype(d);
        const auto states = Opt::states(defaults);
        std::cout << "    " << d << ": " << min_bytes_per_param(layout, states).total() << "  ("
                  << describe_bytes(layout, states) << ")\n";
      }
    });
    out.kind = CliOutcome::Kind::exit_ok;
    return out;
  }
  if (list_optimizers) {
    for (const auto& rule : catalog) {
      std::cout << rule.name << ": " << rule.summary << "\n";
      for (const auto& hp : rule.params)
        std::cout << "  " << hp.flag << (hp.negation.empty() ? "" : " / " + hp.negation) << " (default "
                  << hp.default_value.dump() << "): " << hp.help << "\n";
    }
    out.kind = CliOutcome::Kind::exit_ok;
    return out;
  }
  if (list_workloads) {
    for_each_type(Workloads{}, [](auto t) {
      std::cout << decltype(t)::type::kName << ": " << decltype(t)::type::kSummary << "\n";
    });
    out.kind = CliOutcome::Kind::exit_ok;
    return out;
  }

  if (list_problems) {
    for (const auto& n : shipped_problem_names(exe_dir)) {
      const ProblemSpec p = load_problem(n, exe_dir);
      std::cout << n << " (" << p.workload << "): " << p.description << "\n";
    }
    out.kind = CliOutcome::Kind::exit_ok;
    return out;
  }

  c.backend = check_backend(backend);
  c.seed = parse_seed(seed_text);
  const auto parse_real = [](const std::string& text, const char* flag) {
    size_t pos = 0;
    double v = 0;
    try {
      v = std::stod(text, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (text.empty() || pos != text.size() || !std::isfinite(v))
      throw InputError(std::string(flag) + " takes a finite number (got '" + text + "')");
    return v;
  };
  if (!evict_text.empty())
    c.evict_mib = checked_range(parse_real(evict_text, "--evict-mib"), 0, kMaxEvictMib, "--evict-mib");
  if (!target_loss_text.empty()) {
    c.has_target_loss = true;
    c.target_loss = parse_real(target_loss_text, "--target-loss");
  }
  if (!optimum_text.empty()) {
    c.has_optimum = true;
    c.optimum = parse_real(optimum_text, "--optimum");
  }
  c.theory = !no_theory;
  if (!problem_text.empty()) {
    const ProblemSpec p = load_problem(problem_text, exe_dir);
    if (app.count("--workload") > 0 && c.workload != p.workload)
      throw InputError("--workload " + c.workload + " disagrees with the problem file's workload " +
                       p.workload);
    c.workload = p.workload;
    c.problem = {{"name", p.name}, {"source", p.source}, {"settings", p.settings}};
  } else if (c.workload != "synthetic") {
    throw InputError("--workload " + c.workload + " needs --problem (see --list-problems)");
  }
  const bool training = c.workload != "synthetic";
  if (!training) {
    for (const char* flag :
         {"--batch-size", "--epochs", "--eval-every", "--target", "--target-loss", "--optimum", "--restart",
          "--data-dir", "--tf32", "--sm-carveout", "--no-theory"})
      if (app.count(flag) > 0)
        throw InputError(std::string(flag) + " applies to training runs (give --problem)");
  }
  if (app.count("--output") > 0) check_output_path(c.output);
  const int given =
      int(!params_text.empty()) + int(!params_per_rank_text.empty()) + int(app.count("--model") > 0);
  if (given > 1) throw InputError("give one of --model, --params and --params-per-rank");
  std::vector<ModelSpec> model_specs;
  if (!params_text.empty()) {
    model_specs.push_back(flat_model(parse_count(params_text, "--params")));
  } else if (!params_per_rank_text.empty()) {
    c.params_per_rank = parse_count(params_per_rank_text, "--params-per-rank");
    model_specs.push_back(flat_model(checked_mul(c.params_per_rank, ranks, "--params-per-rank x ranks")));
  } else {
    for (const auto& m : split_list(models, "--model"))
      model_specs.push_back(load_model(m, exe_dir));
  }
  if (training && params_text.empty()) {
    // The problem file sizes the parameters; the record names the problem.
    ModelSpec m;
    m.name = c.problem.value("name", c.workload);
    m.source = "problem " + c.problem.value("source", "");
    model_specs = {m};
  }
  const bool comm_given = app.count("--comm") > 0;
  std::vector<std::string> comm_list =
      comm_given ? split_list(comms, "--comm") : std::vector<std::string>{"none"};
  std::vector<std::string> sharding_list =
      shard_flag ? std::vector<std::string>{"sharded"} : split_list(shardings, "--sharding");
  std::vector<std::string> overlap_list =
      no_overlap_flag ? std::vector<std::string>{"off"} : split_list(overlaps, "--overlap");
  const std::vector<std::string> priority_list = split_list(comm_priorities, "--comm-priority");
  const std::vector<std::string> variant_list = split_list(variants, "--variant");
  const std::vector<std::string> dtype_list = split_list(dtypes, "--dtype");
  const std::vector<double> bucket_list = parse_doubles(bucket_mbs, "--bucket-mb");
  std::vector<int> update_streams_list;
  for (const auto& item : split_list(update_streams_text, "--update-streams")) {
    const double v = parse_doubles(item, "--update-streams").front();
    if (v != std::floor(v) || v < 1 || v > kMaxUpdateStreams)
      throw InputError("--update-streams takes whole numbers from 1 to " + std::to_string(kMaxUpdateStreams) +
                       " (got '" + item + "')");
    update_streams_list.push_back(static_cast<int>(v));
  }
  for (const auto& sh : sharding_list)
    if (sh != "replicated" && sh != "sharded")
      throw InputError("--sharding takes replicated and/or sharded (got '" + sh + "')");
  for (const auto& pr : priority_list)
    if (pr != "high" && pr != "normal")
      throw InputError("--comm-priority takes high and/or normal (got '" + pr + "')");
  const bool any_shard =
      std::find(sharding_list.begin(), sharding_list.end(), "sharded") != sharding_list.end();
  c.mode = comm_only  ? "allreduce"
           : training ? "train"
                      : ((ranks > 1 || comm_given || any_shard) ? "dp" : "update");
  if (app.count("--update-streams") > 0 && c.mode != "dp")
    throw InputError("--update-streams deals a data-parallel step's bucket updates over streams, not " +
                     c.mode + " runs (give --comm for a data-parallel step)");
  if (training && comm_only) throw InputError("--comm-only measures the allreduce alone: drop --problem");
  if (comm_only && launches != "direct")
    throw InputError("--launch applies to update and data-parallel steps: drop it with --comm-only");
  if (training && app.count("--model") > 0)
    throw InputError("--model is for the synthetic workload: drop it with --problem");
  if (training && !comm_given && ranks > 1) comm_list = {"mpi"};
  std::vector<nlohmann::json> hypers;
  const std::vector<std::string> optimizer_list = split_list(optimizers, "--optimizer");
  for (const auto& name : optimizer_list)
    hypers.push_back(hyper_json_for(name, catalog, hyper_options, app));
  if (comm_only) {
    if (!comm_sizes_text.empty()) {
      for (const auto& t : split_list(comm_sizes_text, "--comm-sizes"))
        c.comm_sizes.push_back(parse_bytes(t, "--comm-sizes"));
    } else {
      const int64_t lo = parse_bytes(comm_min, "--comm-min"), hi = parse_bytes(comm_max, "--comm-max");
      if (lo < 4 || hi < lo || hi > kMaxCommBytes)
        throw InputError("--comm-min and --comm-max need 4 <= min <= max <= 8G (got " + std::to_string(lo) +
                         " and " + std::to_string(hi) + ")");
      for (int64_t b = lo; b <= hi; b *= 2)  // hi <= 8 GiB: never overflows
        c.comm_sizes.push_back(b);
    }
    for (const auto& cm : comm_list) {  // one sweep per communication backend
      Config k = base;
      k.model = model_specs.front();
      k.comm = cm;
      validate(k, ranks);
      out.plan.configs.push_back(std::move(k));
    }
    return out;
  }
  // Every combination of the list-valued options, in a fixed order; each is validated before anything runs.
  const std::vector<std::string> rule_mode_list = split_list(rule_modes, "--rule-mode");
  const std::vector<std::string> launch_list = split_list(launches, "--launch");
  for (const auto& m : model_specs)
    for (size_t oi = 0; oi < optimizer_list.size(); ++oi)
      for (const auto& rm : rule_mode_list)
        for (const auto& d : dtype_list)
          for (const auto& v : variant_list)
            for (const auto& ln : launch_list)
              for (const auto& cm : comm_list)
                for (const auto& sh : sharding_list)
                  for (const auto& ov : overlap_list)
                    for (const auto& pr : priority_list)
                      for (int us : update_streams_list)
                        for (double bmb : bucket_list) {
                          Config k = base;
                          k.model = m;
                          k.optimizer = optimizer_list[oi];
                          k.hyper = hypers[oi];
                          k.dtype = d;
                          k.variant = v;
                          k.launch = ln;
                          k.comm = cm;
                          k.shard = sh == "sharded";
                          k.overlap = parse_on_off(ov, "--overlap");
                          k.comm_high_priority = pr == "high";
                          k.update_streams = us;
                          k.bucket_mb = bmb;
                          k.rule_mode = rm;
                          k.rule_mode = resolve_rule_mode(k);
                          validate(k, ranks);
                          out.plan.configs.push_back(std::move(k));
                        }
  return out;
}

}  // namespace nagbench
