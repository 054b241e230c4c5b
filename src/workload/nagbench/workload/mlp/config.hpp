#pragma once
// The mlp workload's host side: its problem settings, its tensor list, the synthetic data generator (shared
// by the device kernels and the host reference, so both see the same bits) and the float64 host reference of
// the gradient with a running rounding-error bound (check_gradient). mlp.hpp is the workload itself.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/random.hpp"
#include "nagbench/optim/arena.hpp"
#include "nagbench/workload/workload.hpp"

namespace nagbench::mlp {

enum class Loss { mse, cross_entropy };

// The problem file's settings (inputs/problems/*_mlp.yaml, mlp_*.yaml):
//   data: digits | breast_cancer | synthetic
//   layers: hidden layers L >= 1 (each Linear + bias + ReLU); a head Linear(width -> outputs) + bias follows,
//           so the network has L + 1 Linear layers
//   width: hidden width W
//   loss: mse | cross_entropy
//   test_fraction: held-out part of a real data set (default 0.2)
//   features, outputs, samples: synthetic data only (input width, output width = classes for cross_entropy,
//           training-set size; generated on the fly, so any size)
struct Config {
  std::string data = "synthetic";
  Loss loss = Loss::mse;
  int64_t layers = 2, width = 128;
  int64_t features = 0, outputs = 0;  // real data: from the data set (known without reading it)
  int64_t samples = 0;                // synthetic: training samples
  double test_fraction = 0.2;
  std::string source;  // the problem file (messages)

  static Config from_spec(const WorkloadSpec& spec);
  bool synthetic() const { return data == "synthetic"; }
  // Classifiers: cross-entropy, or any loss on a real (labelled) data set (mse then fits one-hot targets).
  bool labelled() const { return loss == Loss::cross_entropy || !synthetic(); }
  int linear_layers() const { return static_cast<int>(layers) + 1; }
  // Widths d_0 (features), d_1 .. d_L (width), d_{L+1} (outputs): Linear k maps d_{k-1} -> d_k.
  std::vector<int64_t> dims() const;
};

// [W1, b1, W2, b2, ..., W_{L+1}, b_{L+1}]. W_k is stored as nn.Linear's weight: [out, in] row-major, which is
// the column-major in x out matrix W_k^T (element o * in + i is weight[o][i]).
std::vector<int64_t> tensor_sizes(const Config& c);
std::string tensor_name(int tensor);    // "W3", "b3" (1-based layer numbers)
int64_t weight_count(const Config& c);  // sum over layers of in x out
// Flops of one sample's forward and backward pass (GEMMs only): forward 2 sum(in out), backward 2 sum(in out)
// for dW and 2 sum(in out) for dX of every layer but the first.
double flops_per_sample(const Config& c);

// The elements of tensor `tensor` that check_gradient compares at `step`: all of a tensor of at most 16
// elements, else 16 drawn from counter-based numbers (seed, step, tensor); indices within the tensor.
std::vector<int64_t> checked_elements(uint64_t seed, int64_t step, int tensor, int64_t numel);

// Synthetic data with a planted solution, a pure function of the global sample index (never of the rank
// count or the seed of the run): x_i[j] = value(x stream, i * features + j), uniform in [-1, 1), and targets
// from a fixed sparse random linear teacher, y_i[o] = sum_t a_{o,t} x_i[j_{o,t}] over kTeacherTerms
// features j_{o,t} with weights a_{o,t} uniform in [-3, 3) / sqrt(terms), so every y_i[o] has unit variance.
// Cross-entropy labels are argmax_o y_i[o]. The teacher costs kTeacherTerms loads per output (no GEMM), so
// generating a batch is negligible next to the network's GEMMs. The sums use mul_rn/add_rn in a fixed order,
// so the device and the host reference compute the same bits.
inline constexpr int kTeacherTerms = 8;
inline constexpr uint64_t kDataKind = 31, kTeacherIndexKind = 32, kTeacherWeightKind = 33, kInitKind = 34,
                          kCheckKind = 35, kEpochKind = 36;

struct SyntheticGen {
  uint64_t x_stream = 0;
  int64_t features = 0;
  template <class C>
  KOKKOS_INLINE_FUNCTION C x(int64_t sample, int64_t j) const {
    return static_cast<C>(random_value(x_stream, sample * features + j));
  }
};
SyntheticGen synthetic_gen(const Config& c);

// The teacher's tables: for output o, terms t: feature index j[o * T + t] and weight a[o * T + t] (in the
// compute type, widened to double: exact).
struct Teacher {
  int terms = 0;
  std::vector<int> j;
  std::vector<double> a;
};
template <class C>
Teacher make_teacher(const Config& c);

// One teacher output from a sample's features x (contiguous), in type C, in the fixed order.
template <class C>
KOKKOS_INLINE_FUNCTION C teacher_output(const C* x, const int* j, const C* a, int terms) {
  C sum = 0;
  for (int t = 0; t < terms; ++t)
    sum = add_rn(sum, mul_rn(a[t], x[j[t]]));
  return sum;
}

// --- The float64 host reference of check_gradient.
//
// For each sample of the batch: the forward and backward pass in float64 from the stored parameters and
// inputs, and alongside every quantity q a bound E(q) >= |q_device - q| on the device's rounding error,
// propagated to first order through the network (the standard running error analysis of a sum: an n-term sum
// of products rounded in precision u errs by at most gamma_n sum |terms|, gamma_n = n u / (1 - n u), whatever
// the order of summation, so for cuBLAS, Kokkos Kernels or any other GEMM):
//   forward  z = W a + b:   E(z) = |W| ((1 + g) E(a) + g |a|) + g |b|,   g = gamma_{in+1} + 2 u_in
//            a = relu(z):   E(a) = E(z)  (ReLU is 1-Lipschitz)
//   head:    mse  dZ = phi (f - y):            E = phi ((1 + 2u) E(f) + 2u |f - y|)
//            cross-entropy dZ = c (p - onehot): E(p_i) = p_i (r + (outputs + 8) u (1 + r)),
//            r = exp(2 max E(f)) - 1 (softmax moves by at most that factor when every logit moves by
//            E(f)), E = c ((1 + 2u) E(p) + 2u |p - onehot|)
//   backward dA = W^T dZ:   E(dA) = |W|^T ((1 + g) E(dZ) + g |dZ|),      g = gamma_{out+1} + 2 u_in
//            dZ = dA * [z > 0]: E(dZ) = E(dA) where the sign of z is certain (|z| > E(z)); where it is not,
//            the device may have the other mask: E(dZ) = E(dA) + |dA|
//   dW = sum over the batch of dZ a^T: E = sum (|dZ| + E(dZ))(|a| + E(a)) - |dZ||a| + (gamma_{n+1} + 2 u_in)
//            sum (|dZ| + E(dZ))(|a| + E(a)); db likewise with a = 1
// u is the compute type's unit roundoff (2^-24 float, 2^-53 double), u_in the relative rounding of GEMM
// inputs (TF32 tensor cores: 2^-11, else 0), u_out that of the stored gradient (bf16: 2^-8). The reference's
// own float64 error has the same form with u = 2^-53; the check allows the sum of both, times 1.25 for the
// neglected second-order terms.
struct Rounding {
  double u = 0, u_in = 0, u_out = 0;
};

struct RefBatch {
  int64_t n = 0;
  std::vector<double> x;    // features x n, column-major (the inputs as the device stores them)
  std::vector<double> y;    // outputs x n (mse targets as the device stores them); empty for cross-entropy
  std::vector<int> labels;  // n (cross-entropy)
};

// The gradient of the batch at `params` (an arena-laid-out array, widened from type W), for the elements
// `elements[t]` of every tensor t: value[t][e] and the tolerance tol[t][e]. `scale` is c = ranks / global
// batch (cross-entropy) and `mse_factor` phi = 2 c / outputs (mse), both as the device holds them.
template <class W>
void reference_gradient(const Config& cfg, const std::vector<Segment>& tensors, const W* params,
                        const RefBatch& batch, double scale, double mse_factor,
                        const std::vector<std::vector<int64_t>>& elements, const Rounding& rounding,
                        std::vector<std::vector<double>>& value, std::vector<std::vector<double>>& tol);

}  // namespace nagbench::mlp
