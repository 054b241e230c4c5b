#pragma once
// The interface every update-kernel variant implements. A variant is prepared once with one or more groups
// (the whole model; or one group per gradient bucket, or per bucket shard), then updates one group per call.
// A group is a set of base pointers and segments whose offsets are relative to them: in a replicated update
// the bases are the arenas and the segments the tensors; in a sharded one the bases point at this rank's
// shard of a bucket and its slice of the momentum. Nothing is timed here; the harness times calls to step().
#include <memory>
#include <string>
#include <vector>

#include "nagbench/optim/arena.hpp"

namespace nagbench {

template <class Layout>
struct UpdateGroup {
  ArenaPointers<Layout> base;
  std::vector<Segment> segments;
};

template <class Layout>
using UpdateGroups = std::vector<UpdateGroup<Layout>>;

template <class Exec, class Layout, class Rule>
class UpdateVariant {
 public:
  virtual ~UpdateVariant() = default;
  // Called once, outside any timed region; may build device-side tables.
  virtual void prepare(const Exec& exec, const UpdateGroups<Layout>& groups) = 0;
  // Enqueues the update of one group on `exec` (asynchronously, like any Kokkos dispatch).
  virtual void step(const Exec& exec, const Rule& rule, bool first_step, int group) = 0;
};

// What the catalogue says about a variant, for --help, --list-variants and the records.
struct VariantInfo {
  std::string name;
  std::string summary;
  bool fp32_fp64_only = false;  // the Kokkos Kernels BLAS-1 baseline has no bf16
  bool available = true;        // false when compiled out (e.g. no Kokkos Kernels)
  // Enqueues only on the instance step() is given, so a CUDA graph can capture it (--launch graph).
  bool capturable = true;
};

const std::vector<VariantInfo>& variant_catalog();
// Throws InputError for an unknown or compiled-out variant, or one that does not support the dtype.
void check_variant(const std::string& name, DtypeLayout dtype);
// Throws InputError when --launch graph cannot capture the variant.
void check_variant_capturable(const std::string& name);

}  // namespace nagbench
