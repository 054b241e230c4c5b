#pragma once
// The mlp workload's element-wise and per-sample kernels, all on the execution space instance given. Matrices
// are column-major with one sample per column (a sample's values contiguous, as PyTorch's [batch, features]
// row-major tensors): an activation of width d for n samples is d x n.
#include <Kokkos_Core.hpp>
#include <cstdint>

#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/random.hpp"
#include "nagbench/optim/bf16.hpp"
#include "nagbench/workload/mlp/config.hpp"

namespace nagbench::mlp::kernels {

template <class Exec>
using Policy = Kokkos::RangePolicy<Exec, Kokkos::IndexType<int64_t>>;

// Which sample column s of a batch holds: idx[s] when a list is given, else (offset + s) mod modulus.
struct SampleMap {
  const int64_t* idx = nullptr;
  int64_t offset = 0, modulus = 1;
  KOKKOS_INLINE_FUNCTION int64_t operator()(int64_t s) const { return idx ? idx[s] : (offset + s) % modulus; }
};

// p[offset + j] (and the fp32 master) = U(-bound, bound) from counter-based numbers of `stream`, as
// nn.Linear's default initialisation draws them (kaiming-uniform with a = sqrt(5): bound = 1/sqrt(in), for
// the weight and the bias alike).
template <class Exec, class C, class P>
void init_uniform(const Exec& exec, P* p, float* master, int64_t offset, int64_t n, uint64_t stream,
                  C bound) {
  Kokkos::parallel_for(
      "nagbench::mlp::init", Policy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const int64_t j) {
        const C v = static_cast<C>(random_value(stream, j)) * bound;
        p[offset + j] = StoreAs<P>::from(v);
        if (master) master[offset + j] = static_cast<float>(v);
      });
}

template <class Exec, class T>
void fill(const Exec& exec, T* x, int64_t n, T value) {
  Kokkos::parallel_for(
      "nagbench::mlp::fill", Policy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const int64_t i) { x[i] = value; });
}

// dst = src, converted (bf16 <-> the compute type).
template <class Exec, class From, class To>
void convert(const Exec& exec, const From* src, To* dst, int64_t n) {
  Kokkos::parallel_for(
      "nagbench::mlp::convert", Policy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const int64_t i) { dst[i] = StoreAs<To>::from(to_compute(src[i])); });
}

// A real data set's samples into a batch: x (F x n) from the set's rows (row-major samples x F = F x samples
// column-major), labels (n) and, when y is given, one-hot targets (outputs x n).
template <class Exec, class C>
void gather_real(const Exec& exec, const C* data_x, const int* data_label, int64_t F, int64_t outputs,
                 SampleMap map, int64_t n, C* x, int* labels, C* y) {
  Kokkos::parallel_for(
      "nagbench::mlp::gather_x", Policy<Exec>(exec, 0, F * n), KOKKOS_LAMBDA(const int64_t e) {
        const int64_t s = e / F, j = e % F;
        x[e] = data_x[map(s) * F + j];
      });
  Kokkos::parallel_for(
      "nagbench::mlp::gather_y", Policy<Exec>(exec, 0, outputs * n), KOKKOS_LAMBDA(const int64_t e) {
        const int64_t s = e / outputs, o = e % outputs;
        const int label = data_label[map(s)];
        if (o == 0) labels[s] = label;
        if (y) y[e] = o == label ? C(1) : C(0);
      });
}

// Synthetic samples (config.hpp: SyntheticGen, the teacher): x (F x n), then mse targets y (outputs x n) or
// cross-entropy labels (n), from x as stored. One team per sample, its threads over the sample's features or
// outputs: the sample's index is computed once, not by 64-bit divisions per element (which made the flat
// version cost 0.46 ms of the 24 x 4096 MLP's step on H100).
template <class Exec, class C>
void generate_synthetic(const Exec& exec, SyntheticGen gen, SampleMap map, int64_t n, C* x, const int* tj,
                        const C* ta, int terms, int64_t outputs, C* y, int* labels) {
  using Team = Kokkos::TeamPolicy<Exec, Kokkos::IndexType<int64_t>>;
  using Member = typename Team::member_type;
  const int64_t F = gen.features;
  Kokkos::parallel_for(
      "nagbench::mlp::synthetic_x", Team(exec, n, Kokkos::AUTO), KOKKOS_LAMBDA(const Member& t) {
        const int64_t s = t.league_rank(), i = map(s);
        Kokkos::parallel_for(Kokkos::TeamThreadRange(t, F),
                             [&](const int64_t j) { x[s * F + j] = gen.template x<C>(i, j); });
      });
  if (y) {
    Kokkos::parallel_for(
        "nagbench::mlp::synthetic_y", Team(exec, n, Kokkos::AUTO), KOKKOS_LAMBDA(const Member& t) {
          const int64_t s = t.league_rank();
          Kokkos::parallel_for(Kokkos::TeamThreadRange(t, outputs), [&](const int64_t o) {
            y[s * outputs + o] = teacher_output(x + s * F, tj + o * terms, ta + o * terms, terms);
          });
        });
  }
  if (labels) {
    Kokkos::parallel_for(
        "nagbench::mlp::synthetic_labels", Policy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const int64_t s) {
          int best = 0;
          C top = teacher_output(x + s * F, tj, ta, terms);
          for (int64_t o = 1; o < outputs; ++o) {
            const C v = teacher_output(x + s * F, tj + o * terms, ta + o * terms, terms);
            if (v > top) {
              top = v;
              best = static_cast<int>(o);
            }
          }
          labels[s] = best;
        });
  }
}

// Four values loaded or stored as one access (16 bytes for float: one vector instruction on GPUs).
template <class C>
struct alignas(4 * sizeof(C)) Quad {
  C v[4];
};

// d (rows x n) = d where a > 0, else 0: ReLU's backward from its output a = relu(z) (a > 0 iff z > 0). Four
// elements a thread through Quad when the arrays allow it: the scalar kernel reached 2.1 TB/s on H100 where
// PyTorch's vectorised threshold_backward reaches 2.6-3.1 (scripts/device/gemm_probe.cu), on 24 layers of the
// DDP comparison's step.
template <class Exec, class C>
void relu_mask(const Exec& exec, C* d, const C* a, int64_t count) {
  const auto aligned = [](const void* p) {
    return reinterpret_cast<std::uintptr_t>(p) % sizeof(Quad<C>) == 0;
  };
  if (count % 4 == 0 && aligned(d) && aligned(a)) {
    Kokkos::parallel_for(
        "nagbench::mlp::relu_backward", Policy<Exec>(exec, 0, count / 4), KOKKOS_LAMBDA(const int64_t q) {
          Quad<C> x = reinterpret_cast<const Quad<C>*>(d)[q];
          const Quad<C> y = reinterpret_cast<const Quad<C>*>(a)[q];
          for (int u = 0; u < 4; ++u)
            x.v[u] = y.v[u] > C(0) ? x.v[u] : C(0);
          reinterpret_cast<Quad<C>*>(d)[q] = x;
        });
    return;
  }
  Kokkos::parallel_for(
      "nagbench::mlp::relu_backward", Policy<Exec>(exec, 0, count),
      KOKKOS_LAMBDA(const int64_t e) { d[e] = a[e] > C(0) ? d[e] : C(0); });
}

// The gradient of the scaled mse loss with respect to the head's output f (outputs x n): phi (f - y),
// phi = 2 c / outputs.
template <class Exec, class C>
void mse_grad(const Exec& exec, const C* f, const C* y, C* dz, int64_t count, C phi) {
  Kokkos::parallel_for(
      "nagbench::mlp::mse_grad", Policy<Exec>(exec, 0, count),
      KOKKOS_LAMBDA(const int64_t e) { dz[e] = phi * (f[e] - y[e]); });
}

// The gradient of the scaled softmax cross-entropy: c (softmax(f_s) - onehot(label_s)), one sample a thread.
template <class Exec, class C>
void cross_entropy_grad(const Exec& exec, const C* f, const int* labels, C* dz, int64_t outputs, int64_t n,
                        C c) {
  Kokkos::parallel_for(
      "nagbench::mlp::cross_entropy_grad", Policy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const int64_t s) {
        const C* fs = f + s * outputs;
        C m = fs[0];
        for (int64_t o = 1; o < outputs; ++o)
          m = fs[o] > m ? fs[o] : m;
        C sum = 0;
        for (int64_t o = 0; o < outputs; ++o)
          sum += kmath::exp(fs[o] - m);
        const int label = labels[s];
        for (int64_t o = 0; o < outputs; ++o) {
          const C p = kmath::exp(fs[o] - m) / sum;
          dz[s * outputs + o] = c * (p - (o == label ? C(1) : C(0)));
        }
      });
}

// Per-sample losses in float64, with PyTorch's normalisation: mse (1/outputs) ||f - y||^2 (so that the mean
// over samples is nn.MSELoss(reduction='mean')), cross-entropy logsumexp(f) - f[label] (nn.CrossEntropyLoss);
// correct[s] = 1 when argmax f == label (labels given), else 0.
template <class Exec, class C>
void sample_losses(const Exec& exec, const C* f, const C* y, const int* labels, int64_t outputs, int64_t n,
                   bool cross_entropy, double* loss, double* correct) {
  Kokkos::parallel_for(
      "nagbench::mlp::sample_losses", Policy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const int64_t s) {
        const C* fs = f + s * outputs;
        int64_t best = 0;
        double m = double(fs[0]);
        for (int64_t o = 1; o < outputs; ++o)
          if (double(fs[o]) > m) {
            m = double(fs[o]);
            best = o;
          }
        double l = 0;
        if (cross_entropy) {
          double sum = 0;
          for (int64_t o = 0; o < outputs; ++o)
            sum += kmath::exp(double(fs[o]) - m);
          l = m + kmath::log(sum) - double(fs[labels[s]]);
        } else {
          for (int64_t o = 0; o < outputs; ++o) {
            const double r = double(fs[o]) - double(y[s * outputs + o]);
            l += r * r;
          }
          l /= double(outputs);
        }
        loss[s] = l;
        correct[s] = labels && best == labels[s] ? 1.0 : 0.0;
      });
}

// out[k] = src[offset + idx[k]], widened to double.
template <class Exec, class T>
void gather_elements(const Exec& exec, const T* src, int64_t offset, const int64_t* idx, double* out,
                     int64_t n) {
  Kokkos::parallel_for(
      "nagbench::mlp::gather_elements", Policy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const int64_t k) { out[k] = double(to_compute(src[offset + idx[k]])); });
}

}  // namespace nagbench::mlp::kernels
