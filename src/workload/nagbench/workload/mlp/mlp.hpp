#pragma once
// The mlp workload: a multilayer perceptron trained with a real forward and backward pass through GEMMs
// (linalg/linalg.hpp: cuBLAS on the step's own stream on GPUs, Kokkos Kernels on hosts), each layer's
// gradient produced as the backward reaches it, so its bucket's reduction can start while earlier layers are
// still being computed (the overlap the data-parallel step hides communication behind).
//
// Network (config.hpp: the problem settings): L hidden layers Linear(d_{k-1} -> W) + bias + ReLU, the first
// taking the input features, then a head Linear(W -> outputs) + bias: L + 1 Linear layers. The throughput
// configuration of the DDP comparison, "24 x (Linear(4096, 4096) + ReLU)" with MSE
// (inputs/problems/mlp_4096x24.yaml), is layers: 23, width 4096, features 4096, outputs 4096: 24 Linear(4096,
// 4096) layers in all, the last being the head, with no ReLU after it (PyTorch side: nn.Sequential of 23 x
// (Linear, ReLU) then Linear; a ReLU after the head changes one element-wise pass, not the GEMMs).
//
// Parameters, in layer order [W1, b1, ..., W_{L+1}, b_{L+1}]: W_k stored as nn.Linear's weight, [out, in]
// row-major (= the column-major in x out matrix W_k^T), initialised like nn.Linear's default: W and b uniform
// in [-1/sqrt(in), 1/sqrt(in)), here from counter-based numbers keyed by the seed, the tensor and the
// element, so every rank starts identical.
//
// Activations are column-major with one sample per column (d x n, a sample's values contiguous):
//   forward   Z_k = W_k A_{k-1}:      gemm(T, N) of W_k^T (in x out) and A_{k-1} (in x n), + b, ReLU:
//                                     linalg::gemm_bias (on CUDA the bias and ReLU in the GEMM's epilogue)
//   backward  dW_k = dZ_k A_{k-1}^T:  gemm(N, T) into g as W_k^T (in x out): A_{k-1} dZ_k^T, and
//             db_k = dZ_k 1:          the column sums of its op(B) = dZ_k^T: linalg::gemm_colsum (on CUDA
//                                     the bias gradient in the GEMM's epilogue)
//             dA_{k-1} = W_k^T dZ_k:  gemm(N, N) of W_k^T (in x out) and dZ_k (out x n), then ReLU's mask
// All of it on the execution space instance given (never the default stream). Every activation of the batch
// is kept for the backward (sum of widths x batch values, allocated once for the batch size).
//
// Losses, with PyTorch's definitions: mse = nn.MSELoss(reduction='mean') = the mean over the batch AND the
// outputs of (f - y)^2, so a sample's loss is (1/outputs) ||f - y||^2; cross_entropy =
// nn.CrossEntropyLoss() = the mean over the batch of logsumexp(f) - f[label]. Gradients follow workload.hpp's
// convention: rank r writes (ranks / global batch) x the sum over its samples of the sample losses' gradients
// (mse: 2 (f - y) / outputs).
//
// Data: a real data set (data/dataset.hpp: digits, breast_cancer; split with test_fraction, standardised),
// or synthetic (config.hpp: inputs keyed by the global sample index, a planted sparse linear teacher; any
// size, generated on the device per batch, the same whatever the rank count).
//
// Batches (workload/batches.hpp's schedule): per-rank batch --batch-size (0 = full batch), global batch =
// ranks x that; step s uses global batch s mod steps_per_epoch of epoch s / steps_per_epoch, rank r its
// contiguous share. Real data: epoch e's order is batches.hpp's seeded Fisher-Yates shuffle of (seed, e).
// Synthetic data (too large to hold a permutation): epoch e's order is the training indices starting at a
// seeded offset, o_e, o_e + 1, ... (mod samples): consecutive windows of a seeded offset, each sample once
// per epoch. Evaluation covers a split in index order, each sample on one rank; synthetic sets are evaluated
// on their first kEvalCapSynthetic = 65536 training samples (they have no test split).
//
// check_gradient: a float64 host recompute of a sample of every gradient tensor (config.hpp: the reference
// and its rounding-error bound). When the host work for this rank's batch (about 8 x weights flops a sample)
// stays under kCheckFlops = 1e9, the batch is recomputed whole and compared with arena.g as produce_gradients
// left it. Beyond that (e.g. 24 x 4096^2 weights: 3.2 GFlop a sample) the check recomputes on the device the
// gradient of the batch's first r samples (r = as many as fit the budget, 1 to 8), with the same routine and
// scale, into scratch memory (arena.g is left alone), and compares that with the host.
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/kokkos_util.hpp"
#include "nagbench/core/random.hpp"
#include "nagbench/optim/bf16.hpp"
#include "nagbench/workload/batches.hpp"
#include "nagbench/workload/data/dataset.hpp"
#include "nagbench/workload/linalg/linalg.hpp"
#include "nagbench/workload/mlp/config.hpp"
#include "nagbench/workload/mlp/kernels.hpp"
#include "nagbench/workload/workload.hpp"

namespace nagbench::mlp {

inline constexpr int64_t kEvalCapSynthetic = 65536;  // synthetic sets: samples evaluated
inline constexpr int64_t kEvalChunk = 2048;          // samples per forward pass of evaluate()
inline constexpr double kCheckFlops = 1e9;           // host work check_gradient allows itself

template <class Exec, class Layout>
class MlpWorkload final : public Workload<Exec, Layout> {
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  using C = typename Layout::compute_t;
  using Mem = typename Exec::memory_space;
  template <class T>
  using DView = Kokkos::View<T*, Mem>;
  template <class T>  // the host mirror (HostMirror in Kokkos 3 and 4, host_mirror_type in 5)
  using HView = decltype(Kokkos::create_mirror_view(std::declval<const DView<T>&>()));
  static constexpr bool kDirectP = std::is_same<P, C>::value;  // GEMMs read p itself (fp32, fp64)
  static constexpr bool kDirectG = std::is_same<G, C>::value;  // GEMMs write g itself

 public:
  MlpWorkload(const Config& cfg, const WorkloadSpec& spec, const ProcessInfo& proc)
      : cfg_(cfg),
        rank_(proc.rank),
        ranks_(proc.size),
        seed_(spec.seed),
        dims_(cfg.dims()),
        K_(cfg.linear_layers()),
        blas_(spec.tf32, spec.sm_carveout) {
    layout_ = ArenaLayout::for_sizes(tensor_sizes(cfg_));
    dmax_ = *std::max_element(dims_.begin(), dims_.end());
    for (int t = 0; t < 2 * K_; ++t)
      wcap_ = std::max(wcap_, round_up(layout_.tensors[size_t(t)].numel));
    if (cfg_.synthetic()) {
      n_train_ = cfg_.samples;
      gen_ = synthetic_gen(cfg_);
      const Teacher t = make_teacher<C>(cfg_);
      terms_ = t.terms;
      teacher_a_host_.assign(t.a.begin(), t.a.end());
      teacher_j_host_ = t.j;
      teacher_j_ = upload<int>(t.j, "nagbench::mlp::teacher_j");
      teacher_a_ = upload<C>(teacher_a_host_, "nagbench::mlp::teacher_a");
    } else {
      const data::Dataset all = data::load(cfg_.data, spec.data_dir);
      if (all.features != cfg_.features || all.classes != cfg_.outputs)
        throw InputError("data set '" + all.source + "' has " + std::to_string(all.features) +
                         " features and " + std::to_string(all.classes) +
                         " classes; the mlp workload expects " + std::to_string(cfg_.features) + " and " +
                         std::to_string(cfg_.outputs) + " for '" + cfg_.data + "'");
      data::split(all, cfg_.test_fraction, seed_, train_, test_);
      data::standardize(train_, test_);
      n_train_ = train_.samples;
      n_test_ = test_.samples;
      train_x_ = upload_x(train_);
      test_x_ = upload_x(test_);
      train_label_ = upload<int>(train_.label, "nagbench::mlp::labels");
      test_label_ = upload<int>(test_.label, "nagbench::mlp::labels");
    }
    schedule_ = std::make_unique<BatchSchedule>(n_train_, spec.batch_size, rank_, ranks_, seed_);
    nb_ = schedule_->local_batch();
    const double gb = double(schedule_->global_batch());
    scale_ = static_cast<C>(double(ranks_) / gb);
    phi_ = static_cast<C>(2.0 * double(ranks_) / (gb * double(cfg_.outputs)));

    // The batch's buffers, for the whole run: every activation, two gradient buffers, targets.
    int64_t total = 0;
    for (auto d : dims_)
      total += d * nb_;
    acts_ = alloc<C>(total, "nagbench::mlp::activations");
    dz_[0] = alloc<C>(dmax_ * nb_, "nagbench::mlp::dz");
    dz_[1] = alloc<C>(dmax_ * nb_, "nagbench::mlp::dz");
    if (cfg_.loss == Loss::mse) y_ = alloc<C>(cfg_.outputs * nb_, "nagbench::mlp::targets");
    if (cfg_.labelled()) labels_ = alloc<int>(nb_, "nagbench::mlp::labels");
    if (!cfg_.synthetic()) {
      idx_ = alloc<int64_t>(nb_, "nagbench::mlp::batch_index");
      idx_host_ = Kokkos::create_mirror_view(idx_);
    }
    if (!kDirectP) pc_ = alloc<C>(layout_.length, "nagbench::mlp::params");
    if (!kDirectG) scratch_ = alloc<C>(2 * wcap_, "nagbench::mlp::grad_scratch");
  }

  void initialize(const Exec& exec, const ArenaPointers<Layout>& arena, const ArenaLayout& layout) override {
    // The caller's arena may be longer (a bucket plan pads it for the ranks); its tensors must be ours.
    bool same = layout.tensors.size() == layout_.tensors.size() && layout.length >= layout_.length;
    for (size_t t = 0; same && t < layout.tensors.size(); ++t)
      same = layout.tensors[t].offset == layout_.tensors[t].offset &&
             layout.tensors[t].numel == layout_.tensors[t].numel;
    if (!same) throw RunError("mlp: the arena's layout is not the workload's");
    float* master = Layout::has_master ? arena.master : nullptr;
    for (int t = 0; t < 2 * K_; ++t) {
      const int k = t / 2 + 1;
      const C bound = static_cast<C>(1.0 / std::sqrt(double(dims_[size_t(k - 1)])));
      const uint64_t stream = random_stream(seed_, RandomKind(kInitKind), 0, uint64_t(t));
      kernels::init_uniform<Exec, C, P>(exec, arena.p, master, offset(t), numel(t), stream, bound);
    }
    // g's padding is never written by the backward: zero, so a reduction of whole buckets adds zeros.
    kernels::fill<Exec, G>(exec, arena.g, layout_.length, StoreAs<G>::from(0.0f));
  }

  void produce_gradients(const Exec& exec, const ArenaPointers<Layout>& arena, int64_t step,
                         const std::vector<GradientRange>& ranges,
                         const std::function<void(int)>& ready) override {
    // need[r]: the backward position (0 = the head, K-1 = the first layer) after which every tensor that
    // overlaps range r is finished; -1 for a range of padding only.
    std::vector<int> need(ranges.size(), -1);
    for (size_t r = 0; r < ranges.size(); ++r)
      for (int t = 0; t < 2 * K_; ++t)
        if (offset(t) < ranges[r].end && offset(t) + numel(t) > ranges[r].begin)
          need[r] = std::max(need[r], K_ - (t / 2 + 1));
    size_t next = 0;
    const auto fire = [&](int position) {
      while (next < ranges.size() && need[next] <= position)
        ready(static_cast<int>(next++));
    };
    fire(-1);

    const C* params = device_params(exec, arena.p);
    gradient(
        exec, params, step, nb_,
        [&](int t) -> C* {
          if constexpr (kDirectG) {
            return arena.g + offset(t);
          } else {
            return scratch_.data() + (t % 2) * wcap_;
          }
        },
        [&](int k) {
          if constexpr (!kDirectG) {
            for (int t : {2 * (k - 1), 2 * (k - 1) + 1})
              kernels::convert<Exec, C, G>(exec, scratch_.data() + (t % 2) * wcap_, arena.g + offset(t),
                                           numel(t));
          }
          fire(K_ - k);
        });
    fire(K_);
  }

  bool has_objective() const override { return true; }
  bool has_test_split() const override { return n_test_ > 0; }
  bool is_classifier() const override { return cfg_.labelled(); }
  bool has_backward() const override { return true; }
  int64_t samples_per_step() const override { return schedule_->local_batch(); }
  int64_t global_samples_per_step() const override { return schedule_->global_batch(); }
  int64_t steps_per_epoch() const override { return schedule_->steps_per_epoch(); }

  LossParts evaluate(const Exec& exec, const P* params_in, Split split) override {
    LossParts out;
    const int64_t n_all = split == Split::train
                              ? (cfg_.synthetic() ? std::min(n_train_, kEvalCapSynthetic) : n_train_)
                              : n_test_;
    const int64_t lo = n_all * rank_ / ranks_, hi = n_all * (rank_ + 1) / ranks_;
    if (hi <= lo) return out;
    const C* params = device_params(exec, params_in);
    const int64_t chunk = std::min(kEvalChunk, hi - lo);
    if (eval_chunk_ < chunk) {
      eval_chunk_ = chunk;
      ex_ = alloc<C>(cfg_.features * chunk, "nagbench::mlp::eval_x");
      ebuf_[0] = alloc<C>(dmax_ * chunk, "nagbench::mlp::eval_act");
      ebuf_[1] = alloc<C>(dmax_ * chunk, "nagbench::mlp::eval_act");
      ey_ = alloc<C>(cfg_.outputs * chunk, "nagbench::mlp::eval_y");
      elabels_ = alloc<int>(chunk, "nagbench::mlp::eval_labels");
      eloss_ = alloc<double>(chunk, "nagbench::mlp::eval_loss");
      ecorrect_ = alloc<double>(chunk, "nagbench::mlp::eval_correct");
      eloss_host_ = Kokkos::create_mirror_view(eloss_);
      ecorrect_host_ = Kokkos::create_mirror_view(ecorrect_);
    }
    std::vector<C*> act(size_t(K_ + 1));
    act[0] = ex_.data();
    for (int k = 1; k <= K_; ++k)
      act[size_t(k)] = ebuf_[(k - 1) % 2].data();
    const bool mse = cfg_.loss == Loss::mse;
    int* labels = cfg_.labelled() ? elabels_.data() : nullptr;
    for (int64_t c = lo; c < hi; c += chunk) {
      const int64_t m = std::min(chunk, hi - c);
      kernels::SampleMap map;
      map.offset = c;
      map.modulus = INT64_MAX;
      if (cfg_.synthetic()) {
        kernels::generate_synthetic<Exec, C>(exec, gen_, map, m, ex_.data(), teacher_j_.data(),
                                             teacher_a_.data(), terms_, cfg_.outputs,
                                             mse ? ey_.data() : nullptr, labels);
      } else {
        const bool train = split == Split::train;
        kernels::gather_real<Exec, C>(exec, (train ? train_x_ : test_x_).data(),
                                      (train ? train_label_ : test_label_).data(), cfg_.features,
                                      cfg_.outputs, map, m, ex_.data(), labels, mse ? ey_.data() : nullptr);
      }
      forward(exec, params, act, m);
      kernels::sample_losses<Exec, C>(exec, act[size_t(K_)], ey_.data(), labels, cfg_.outputs, m, !mse,
                                      eloss_.data(), ecorrect_.data());
      Kokkos::deep_copy(exec, eloss_host_, eloss_);
      Kokkos::deep_copy(exec, ecorrect_host_, ecorrect_);
      exec.fence();
      for (int64_t s = 0; s < m; ++s) {
        out.loss_sum += eloss_host_(s);
        out.correct += ecorrect_host_(s);
      }
      out.count += m;
    }
    return out;
  }

  std::string check_gradient(const Exec& exec, const ArenaPointers<Layout>& arena, int64_t step) override {
    const std::vector<int64_t> samples = host_indices(step);
    const int64_t nb = static_cast<int64_t>(samples.size());
    const double per_sample = 8.0 * double(weight_count(cfg_));
    const bool whole = per_sample * double(nb) <= kCheckFlops;
    const int64_t r =
        whole ? nb : std::max<int64_t>(1, std::min<int64_t>({8, nb, int64_t(kCheckFlops / per_sample)}));

    // The elements checked, tensor by tensor, and their device values.
    const int T = 2 * K_;
    std::vector<std::vector<int64_t>> elems(static_cast<size_t>(T));
    std::vector<int64_t> first(size_t(T) + 1, 0);
    for (int t = 0; t < T; ++t) {
      elems[size_t(t)] = checked_elements(seed_, step, t, numel(t));
      first[size_t(t) + 1] = first[size_t(t)] + int64_t(elems[size_t(t)].size());
    }
    DView<int64_t> didx = alloc<int64_t>(first[size_t(T)], "nagbench::mlp::check_index");
    DView<double> dval = alloc<double>(first[size_t(T)], "nagbench::mlp::check_value");
    auto hidx = Kokkos::create_mirror_view(didx);
    for (int t = 0; t < T; ++t)
      for (size_t e = 0; e < elems[size_t(t)].size(); ++e)
        hidx(first[size_t(t)] + int64_t(e)) = elems[size_t(t)][e];
    exec.fence();
    Kokkos::deep_copy(exec, didx, hidx);
    const auto count = [&](int t) { return first[size_t(t) + 1] - first[size_t(t)]; };
    if (whole) {
      for (int t = 0; t < T; ++t)
        kernels::gather_elements<Exec, G>(exec, arena.g, offset(t), didx.data() + first[size_t(t)],
                                          dval.data() + first[size_t(t)], count(t));
    } else {
      if (scratch_.extent(0) == 0) scratch_ = alloc<C>(2 * wcap_, "nagbench::mlp::grad_scratch");
      const C* params = device_params(exec, arena.p);
      gradient(
          exec, params, step, r, [&](int t) { return scratch_.data() + (t % 2) * wcap_; },
          [&](int k) {
            for (int t : {2 * (k - 1), 2 * (k - 1) + 1})
              kernels::gather_elements<Exec, C>(exec, scratch_.data() + (t % 2) * wcap_, 0,
                                                didx.data() + first[size_t(t)],
                                                dval.data() + first[size_t(t)], count(t));
          });
    }
    auto hval = Kokkos::create_mirror_view(dval);
    Kokkos::deep_copy(exec, hval, dval);
    std::vector<P> hp(size_t(layout_.length));
    Kokkos::deep_copy(exec, Kokkos::View<P*, Kokkos::HostSpace>(hp.data(), hp.size()),
                      Kokkos::View<const P*, Mem>(arena.p, hp.size()));
    exec.fence();

    const RefBatch batch = host_batch(samples, r);
    Rounding rd;
    rd.u = std::is_same<C, float>::value ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53);
    rd.u_in = blas_.tf32_active() && std::is_same<C, float>::value ? std::ldexp(1.0, -11) : 0.0;
    rd.u_out = whole && !kDirectG ? std::ldexp(1.0, -8) : 0.0;
    std::vector<std::vector<double>> want, tol;
    if constexpr (std::is_same<P, bf16>::value) {
      std::vector<float> wide(hp.size());
      for (size_t i = 0; i < hp.size(); ++i)
        wide[i] = hp[i].to_float();
      reference_gradient<float>(cfg_, layout_.tensors, wide.data(), batch, double(scale_), double(phi_),
                                elems, rd, want, tol);
    } else {
      reference_gradient<P>(cfg_, layout_.tensors, hp.data(), batch, double(scale_), double(phi_), elems, rd,
                            want, tol);
    }

    int bad = 0, worst_t = -1;
    size_t worst_e = 0;
    double worst = 0;
    for (int t = 0; t < T; ++t)
      for (size_t e = 0; e < elems[size_t(t)].size(); ++e) {
        const double got = hval(first[size_t(t)] + int64_t(e)), w = want[size_t(t)][e],
                     tl = tol[size_t(t)][e];
        const double ratio = std::isfinite(got) ? std::abs(got - w) / tl : INFINITY;
        if (!(ratio <= 1)) {
          ++bad;
          if (worst_t < 0 || !(ratio <= worst)) {
            worst = ratio;
            worst_t = t;
            worst_e = e;
          }
        }
      }
    if (bad == 0) return "";
    char line[512];
    std::snprintf(
        line, sizeof(line),
        "mlp gradient of tensor %s element %lld: %.9g (float64 reference %.9g, tolerance %.3g; %d of %lld "
        "checked elements outside, %s %lld samples of step %lld)",
        tensor_name(worst_t).c_str(), static_cast<long long>(elems[size_t(worst_t)][worst_e]),
        hval(first[size_t(worst_t)] + int64_t(worst_e)), want[size_t(worst_t)][worst_e],
        tol[size_t(worst_t)][worst_e], bad, static_cast<long long>(first[size_t(T)]),
        whole ? "batch of" : "recomputed on the device for the first", static_cast<long long>(r),
        static_cast<long long>(step));
    return line;
  }

  nlohmann::json describe() const override {
    nlohmann::json j = {{"problem", "mlp"},
                        {"data", cfg_.data},
                        {"loss", cfg_.loss == Loss::mse ? "mse" : "cross_entropy"},
                        {"layers", cfg_.layers},
                        {"linear_layers", K_},
                        {"width", cfg_.width},
                        {"features", cfg_.features},
                        {"outputs", cfg_.outputs},
                        {"params", layout_.params},
                        {"train_samples", n_train_},
                        {"test_samples", n_test_},
                        {"batch_per_rank", schedule_->local_batch()},
                        {"global_batch", schedule_->global_batch()},
                        {"steps_per_epoch", schedule_->steps_per_epoch()},
                        {"flops_per_sample", flops_per_sample(cfg_)},
                        {"tf32", blas_.tf32()},
                        {"tf32_active", blas_.tf32_active()}};
    if (cfg_.synthetic()) {
      j["teacher"] = "sparse linear, " + std::to_string(terms_) + " terms per output";
      j["evaluated_samples_cap"] = kEvalCapSynthetic;
    } else {
      j["test_fraction"] = cfg_.test_fraction;
      j["source"] = train_.source;
    }
    return j;
  }

  // --- What the tests reach (public, not part of the interface).
  const ArenaLayout& layout() const { return layout_; }

  // Forward pass of n samples: act[0] holds the inputs (features x n); writes act[1..K] (each d_k x n; the
  // hidden ones after the ReLU, act[K] the head's output). Public for extended lambdas (nvcc).
  void forward(const Exec& exec, const C* params, const std::vector<C*>& act, int64_t n) {
    for (int k = 1; k <= K_; ++k) {
      const int64_t in = dims_[size_t(k - 1)], out = dims_[size_t(k)];
      linalg::gemm_bias<Exec, C>(exec, blas_, linalg::Trans::yes, linalg::Trans::no, out, n, in,
                                 params + offset(2 * (k - 1)), in, act[size_t(k - 1)], in,
                                 params + offset(2 * (k - 1) + 1), k < K_, act[size_t(k)], out);
    }
  }

 private:
  static int64_t round_up(int64_t n) {
    return (n + ArenaLayout::kAlignElements - 1) / ArenaLayout::kAlignElements * ArenaLayout::kAlignElements;
  }
  int64_t offset(int t) const { return layout_.tensors[size_t(t)].offset; }
  int64_t numel(int t) const { return layout_.tensors[size_t(t)].numel; }

  template <class T>
  static DView<T> alloc(int64_t n, const char* label) {
    return DView<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)),
                    size_t(std::max<int64_t>(n, 1)));
  }
  template <class T, class S>
  static DView<T> upload(const std::vector<S>& v, const char* label) {
    DView<T> d = alloc<T>(int64_t(v.size()), label);
    auto h = Kokkos::create_mirror_view(d);
    for (size_t i = 0; i < v.size(); ++i)
      h(i) = static_cast<T>(v[i]);
    Kokkos::deep_copy(d, h);
    return d;
  }
  static DView<C> upload_x(const data::Dataset& d) { return upload<C>(d.x, "nagbench::mlp::x"); }

  // The parameters as the GEMMs read them: p itself, or (bf16) its copy in the compute type.
  const C* device_params(const Exec& exec, const P* p) {
    if constexpr (kDirectP) {
      (void)exec;
      return p;
    } else {
      kernels::convert<Exec, P, C>(exec, p, pc_.data(), layout_.length);
      return pc_.data();
    }
  }

  // The sample of this rank's batch of `step` (synthetic data): consecutive indices from a seeded offset.
  kernels::SampleMap window(int64_t step) const {
    const int64_t spe = schedule_->steps_per_epoch(), epoch = step / spe, b = step % spe;
    const uint64_t o = mix64(random_stream(seed_, RandomKind(kEpochKind), 0, uint64_t(epoch)));
    kernels::SampleMap m;
    m.modulus = n_train_;
    m.offset = int64_t((o % uint64_t(n_train_) + uint64_t(b * schedule_->global_batch()) +
                        uint64_t(schedule_->share_begin(rank_))) %
                       uint64_t(n_train_));
    return m;
  }
  std::vector<int64_t> host_indices(int64_t step) const {
    if (!cfg_.synthetic()) return schedule_->indices(step);
    const kernels::SampleMap m = window(step);
    std::vector<int64_t> v(static_cast<size_t>(nb_));
    for (int64_t s = 0; s < nb_; ++s)
      v[size_t(s)] = m(s);
    return v;
  }

  // The first n samples of this rank's batch of `step` into act[0] and the targets.
  void load_batch(const Exec& exec, int64_t step, int64_t n) {
    C* x = acts_.data();
    C* y = cfg_.loss == Loss::mse ? y_.data() : nullptr;
    int* labels = cfg_.labelled() ? labels_.data() : nullptr;
    if (cfg_.synthetic()) {
      kernels::generate_synthetic<Exec, C>(exec, gen_, window(step), n, x, teacher_j_.data(),
                                           teacher_a_.data(), terms_, cfg_.outputs, y, labels);
      return;
    }
    const std::vector<int64_t> idx = schedule_->indices(step);
    exec.fence();  // the previous batch's index copy is complete before the host buffer is rewritten
    for (int64_t s = 0; s < n; ++s)
      idx_host_(s) = idx[size_t(s)];
    Kokkos::deep_copy(exec, idx_, idx_host_);
    kernels::SampleMap map;
    map.idx = idx_.data();
    kernels::gather_real<Exec, C>(exec, train_x_.data(), train_label_.data(), cfg_.features, cfg_.outputs,
                                  map, n, x, labels, y);
  }

  // The gradient of the first n samples of `step`'s batch at `params`: forward, the loss's gradient, then
  // the backward, last layer first. grad(t) says where tensor t's gradient goes (a compute-type array of its
  // size); finished(k) runs after the last kernel that writes Linear k's gradients or reads its weights.
  template <class GradPtr, class Finished>
  void gradient(const Exec& exec, const C* params, int64_t step, int64_t n, GradPtr&& grad,
                Finished&& finished) {
    load_batch(exec, step, n);
    std::vector<C*> act(size_t(K_ + 1));
    int64_t o = 0;
    for (int k = 0; k <= K_; ++k) {
      act[size_t(k)] = acts_.data() + o;
      o += dims_[size_t(k)] * n;
    }
    forward(exec, params, act, n);
    // The backward's GEMMs run beside the reductions of the buckets it has produced: planned for the SMs
    // the carve-out leaves them (--sm-carveout; the forward's use all).
    blas_.carve_out(true);
    C* cur = dz_[0].data();
    C* other = dz_[1].data();
    const int64_t outputs = cfg_.outputs;
    if (cfg_.loss == Loss::mse)
      kernels::mse_grad<Exec, C>(exec, act[size_t(K_)], y_.data(), cur, outputs * n, phi_);
    else
      kernels::cross_entropy_grad<Exec, C>(exec, act[size_t(K_)], labels_.data(), cur, outputs, n, scale_);
    for (int k = K_; k >= 1; --k) {
      const int64_t in = dims_[size_t(k - 1)], out = dims_[size_t(k)];
      const C* a = act[size_t(k - 1)];
      linalg::gemm_colsum<Exec, C>(exec, blas_, linalg::Trans::no, linalg::Trans::yes, in, out, n, a, in, cur,
                                   out, grad(2 * (k - 1)), in, grad(2 * (k - 1) + 1));
      if (k > 1) {
        linalg::gemm<Exec, C>(exec, blas_, linalg::Trans::no, linalg::Trans::no, in, n, out, C(1),
                              params + offset(2 * (k - 1)), in, cur, out, C(0), other, in);
        kernels::relu_mask<Exec, C>(exec, other, a, in * n);
        std::swap(cur, other);
      }
      finished(k);
    }
    blas_.carve_out(false);
  }

  // This rank's first n samples of a batch as the device holds them, for the host reference.
  RefBatch host_batch(const std::vector<int64_t>& samples, int64_t n) const {
    RefBatch b;
    b.n = n;
    const int64_t F = cfg_.features, O = cfg_.outputs;
    b.x.resize(size_t(F * n));
    if (cfg_.loss == Loss::mse) b.y.resize(size_t(O * n));
    b.labels.resize(size_t(n));
    std::vector<C> xc(static_cast<size_t>(F));
    for (int64_t s = 0; s < n; ++s) {
      const int64_t i = samples[size_t(s)];
      for (int64_t j = 0; j < F; ++j) {
        xc[size_t(j)] =
            cfg_.synthetic() ? gen_.template x<C>(i, j) : static_cast<C>(train_.x[size_t(i * F + j)]);
        b.x[size_t(s * F + j)] = double(xc[size_t(j)]);
      }
      if (cfg_.synthetic()) {
        int best = 0;
        C top = 0;
        for (int64_t o = 0; o < O; ++o) {
          const C v = teacher_output(xc.data(), teacher_j_host_.data() + o * terms_,
                                     teacher_a_host_.data() + o * terms_, terms_);
          if (!b.y.empty()) b.y[size_t(s * O + o)] = double(v);
          if (o == 0 || v > top) {
            top = v;
            best = static_cast<int>(o);
          }
        }
        b.labels[size_t(s)] = best;
      } else {
        const int label = train_.label[size_t(i)];
        b.labels[size_t(s)] = label;
        if (!b.y.empty())
          for (int64_t o = 0; o < O; ++o)
            b.y[size_t(s * O + o)] = o == label ? 1.0 : 0.0;
      }
    }
    return b;
  }

  Config cfg_;
  int rank_, ranks_;
  uint64_t seed_;
  std::vector<int64_t> dims_;
  int K_;
  linalg::BlasHandle<Exec> blas_;
  ArenaLayout layout_;
  int64_t dmax_ = 0, wcap_ = 0, nb_ = 0, n_train_ = 0, n_test_ = 0;
  std::unique_ptr<BatchSchedule> schedule_;
  C scale_ = 0, phi_ = 0;
  // Data: a real set on the device (and the host, for the reference), or the synthetic generator's tables.
  data::Dataset train_, test_;
  DView<C> train_x_, test_x_;
  DView<int> train_label_, test_label_;
  SyntheticGen gen_;
  int terms_ = 0;
  DView<int> teacher_j_;
  DView<C> teacher_a_;
  std::vector<int> teacher_j_host_;
  std::vector<C> teacher_a_host_;
  // The batch's buffers.
  DView<C> acts_, dz_[2], y_, pc_, scratch_;
  DView<int> labels_;
  DView<int64_t> idx_;
  HView<int64_t> idx_host_;
  // evaluate()'s buffers (allocated at its first call).
  int64_t eval_chunk_ = 0;
  DView<C> ex_, ebuf_[2], ey_;
  DView<int> elabels_;
  DView<double> eloss_, ecorrect_;
  HView<double> eloss_host_, ecorrect_host_;
};

// The plug-in (workloads.hpp).
struct Mlp {
  static constexpr const char* kName = "mlp";
  static constexpr const char* kSummary =
      "a multilayer perceptron (Linear + bias + ReLU layers, mse or cross-entropy head) with a real backward "
      "pass "
      "through GEMMs: digits (scikit-learn's CSV) or synthetic at any size (--problem digits_mlp, "
      "mlp_4096x24)";
  static std::vector<int64_t> tensor_sizes(const WorkloadSpec& spec) {
    return mlp::tensor_sizes(Config::from_spec(spec));
  }
  template <class Exec, class Layout>
  static std::unique_ptr<Workload<Exec, Layout>> make(const WorkloadSpec& spec, const ProcessInfo& proc) {
    return std::make_unique<MlpWorkload<Exec, Layout>>(Config::from_spec(spec), spec, proc);
  }
  template <class Layout>
  static std::unique_ptr<ReplaySource> replay(const WorkloadSpec&) {
    return nullptr;  // gradients depend on the parameters
  }
};

}  // namespace nagbench::mlp
