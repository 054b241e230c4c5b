#include "nagbench/app/cli.hpp"

#include <CLI/CLI.hpp>
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

CliOutcome parse_command_line(int argc, char** argv, const std::string& exe_dir) {
  CliOutcome out;
  Config& c = out.config;
  c.command_line = joined_command_line(argc, argv);

  CLI::App app{
      "nagbench: data-parallel Nesterov (torch.optim.SGD) optimizer kernels in Kokkos.\n"
      "Measures the update step of a model's parameter list against the memory roof of the same device, and "
      "checks\n"
      "the result against a float64 reference. Results: a table on stdout, a JSON record with --output.",
      "nagbench"};
  app.allow_extras();  // --kokkos-* arguments pass through to Kokkos
  std::string backend = backend_name(default_backend());
  std::string model = "resnet50";
  std::string params_text;
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
  app.add_option("-m,--model", model,
                 "Model: a shipped name (see --list-models) or a path to a .yaml tensor list")
      ->capture_default_str();
  app.add_option("--params", params_text, "Instead of --model: one flat tensor of N parameters (e.g. 2^28)");
  app.add_option("-v,--variant", c.variant, "Update kernel variant (see --list-variants)")
      ->capture_default_str();
  app.add_option("-d,--dtype", c.dtype, "Dtype layout: fp32|fp64|bf16|bf16_master")->capture_default_str();
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
  app.add_option("-o,--output", c.output, "Write the JSON record to FILE (atomically)");
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
  c.model =
      params_text.empty() ? load_model(model, exe_dir) : flat_model(parse_count(params_text, "--params"));
  if (!params_text.empty() && app.count("--model"))
    throw InputError("give either --model or --params, not both");
  validate(c);
  check_output_path_writable(c.output);
  return out;
}

}  // namespace nagbench
