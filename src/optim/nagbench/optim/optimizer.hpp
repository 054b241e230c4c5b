#pragma once
// What every update rule (optimizer) provides, and what the rest of nagbench knows of rules. A rule is one
// folder (optim/sgd/, ...) with one struct that names:
//
//   kName, kSummary                         "sgd", one line for --help and --list-optimizers
//   Hyper                                   its hyper-parameters: validate(), validate_in_compute_type(fp32),
//                                           describe(), to_json(), static from_json(json)
//   hyper_params()                          the command-line options of Hyper (HyperParam below)
//   states(hyper)                           its per-parameter state arrays and their use (optim/bytes.hpp)
//   kTorchArithmetic                        whether Arithmetic::torch exists for it
//   Rule<C>, make_rule<C>(hyper, ranks, k, arithmetic)
//                                           the device-side update of one element in compute type C at step
//                                           k, for a gradient summed over `ranks` ranks:
//                                             kStates; C apply(fl, p, g, s[]); with_step_flags(first, f) and
//                                             runtime_flags(first) giving flags with reads_state(k) and
//                                             writes_state(k); unfused(ops, ...) for the BLAS-1 variant
//   reference_step(hyper, state, grad, k)   float64 host reference of step k, written apart from Rule
//   error_bounds(hyper)                     magnitudes that scale the verification tolerances
//   kIterateState                           where the iterate whose objective value theory talks about
//                                           lives: -1 for p itself (sgd, gd, heavy_ball), k >= 0 for state
//                                           array k (nesterov1983: p holds the look-ahead point y_k, state 0
//                                           the iterate x_k); the training loop evaluates f there
//   kPlainBf16                              whether the bf16 layout (state stored in bf16) is supported
//   same_rule_every_step(hyper)             whether make_rule gives the same Rule at every step k (then one
//                                           captured CUDA graph serves every step: --launch graph)
//
// and one line in optim/optimizers.hpp registers it. Variants (naive, fused, multi_tensor, unfused), the
// bytes table, verification, records and the CLI then work for it unchanged. docs/design.md walks through
// adding one.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/optim/arena.hpp"

namespace nagbench {

// How a rule rounds: `separate` rounds every product and sum as written, on hosts and GPUs alike (nagbench's
// host arithmetic before 2026-11-28; on GPUs nvcc used to contract some products and sums into FMAs,
// differently from kernel to kernel), `torch` follows PyTorch's own order and fused multiply-adds exactly, so
// the results are PyTorch's bits. A rule that has one arithmetic supports `separate` only.
enum class Arithmetic { separate, torch };
inline const char* arithmetic_name(Arithmetic a) {
  return a == Arithmetic::torch ? "torch" : "separate";
}

// A hyper-parameter as the command line sets it and the record stores it.
struct HyperParam {
  std::string key;   // JSON key in the record's "hyper" object, e.g. "weight_decay"
  std::string flag;  // command-line option, e.g. "--weight-decay"
  std::string help;
  nlohmann::json default_value;  // a number, or a bool for switches
  std::string negation = "";  // switches that default to on: the flag that turns them off ("--no-nesterov")
};

// The float64 state of one parameter in a reference run.
struct ReferenceState {
  double p = 0;
  double s[kMaxStates] = {};
  bool initialized = false;  // the rule's state exists (SGD: "momentum_buffer is not None")
  // Steps whose rounding of p to its storage type (bf16) the compute type's error could have tipped either
  // way (the verification allows one storage unit per such step: a flip persists in the trajectory).
  int ambiguous_roundings = 0;
};

// Magnitudes the verification tolerances scale with (docs/metrics.md): per step, the largest |lr *
// direction|, and the largest value of each state array, for gradients and parameters of magnitude at most 1.
struct ErrorBounds {
  double step = 0;
  double state[kMaxStates] = {};
};

}  // namespace nagbench
