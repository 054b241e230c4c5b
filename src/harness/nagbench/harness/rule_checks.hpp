#pragma once
// The checks every run kind that updates parameters (update, dp) makes of its configuration, before anything
// runs: a known workload, rule, dtype and variant, the rule's hyper-parameters valid in double and in the
// compute type, and a trajectory that stays finite.
#include "nagbench/harness/config.hpp"
#include "nagbench/optim/arena.hpp"
#include "nagbench/optim/optimizer.hpp"
#include "nagbench/workload/workload.hpp"

namespace nagbench {

void validate_rule_configuration(const Config& c, int ranks);

// --launch graph: a step's graph is captured once and replayed at every later step, so the variant must keep
// its work on the instance it is given and the rule must not change after the first step. InputError if not.
void check_rule_replayable(const Config& c);

// --rule-mode auto resolved for this configuration: torch where the rule has PyTorch's arithmetic and the
// backend can run it at speed (a GPU, or a CPU with fused multiply-add), except for the unfused variant (its
// passes are BLAS calls with their own arithmetic); separate otherwise. Other values are returned as given.
std::string resolve_rule_mode(const Config& c);
// The configuration's (resolved) arithmetic.
Arithmetic arithmetic_of(const Config& c);

// The workload a configuration asks for, as a spec.
WorkloadSpec workload_spec(const Config& c);
// Its arena layout (tensor list) without any device; throws InputError on overflow.
ArenaLayout configuration_arena(const Config& c);
// How many state arrays the configuration's rule keeps.
int configuration_states(const Config& c);

}  // namespace nagbench
