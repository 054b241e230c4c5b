// What one bucket's update costs beyond its bytes when a data-parallel step updates a model bucket by bucket
// (issue 14's stretch; the --timeline measurement of 2026-11-29 found 5-6 us per bucket on an H200), and which
// way of launching the buckets removes it. Plain CUDA, no Kokkos, no communication: every bucket's gradient is
// ready, so what is measured is the update stream alone, the critical path at one rank from 8 MiB buckets up.
//
//   nvcc -O3 -std=c++17 -arch=sm_90 scripts/device/bucket_tail_probe.cu -o bucket_tail_probe
//   ./bucket_tail_probe [--params 304326632] [--reps 20] [--json out.json]
//
// The update is nesterov-shaped fp32 (p, g, m read; p, m written: 20 B/param), 16-byte accesses, one thread per
// 4 parameters, blocks of 256 threads, as nagbench's fused kernel. Cases per bucket size (MiB of gradient):
//   one_kernel        one launch over every parameter (no buckets: the floor)
//   streams_1         one launch per bucket on one stream (what nagbench does today)
//   streams_2 / _4    one launch per bucket, buckets dealt round robin to 2 or 4 streams (independent memory)
//   graph_1           streams_1 captured into a CUDA graph and replayed
//   persistent        one launch of a grid of (SMs x blocks per SM) blocks that walks the buckets in order; each
//                     block waits for the bucket's ready flag (set beforehand here; a comm stream would set it),
//                     then strides over the bucket
//   persistent_2      the same with 2 blocks per SM (room left for a communicator's kernels)
// Each case's time is between two CUDA events on the device, after a 256 MiB write that evicts L2; median, min and
// max over reps in microseconds, the bandwidth from 20 B/param, and the cost per bucket beyond one_kernel. The
// parameters are checked after every case against a host replay of the same number of steps (first element of
// every bucket and a stride through the rest). Exit status 1 when a CUDA call fails or a check does.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#define CK(x)                                                                         \
  do {                                                                                \
    cudaError_t e_ = (x);                                                             \
    if (e_ != cudaSuccess) {                                                          \
      std::fprintf(stderr, "bucket_tail_probe: %s: %s\n", #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                                   \
    }                                                                                 \
  } while (0)

namespace {

constexpr float kLr = 1e-3f, kMu = 0.9f;
constexpr int kThreads = 256;

__device__ __forceinline__ void nag4(float4& p, const float4& g, float4& m) {
  m.x = kMu * m.x + g.x;
  m.y = kMu * m.y + g.y;
  m.z = kMu * m.z + g.z;
  m.w = kMu * m.w + g.w;
  p.x -= kLr * (g.x + kMu * m.x);
  p.y -= kLr * (g.y + kMu * m.y);
  p.z -= kLr * (g.z + kMu * m.z);
  p.w -= kLr * (g.w + kMu * m.w);
}

// Packs [lo, hi) of 4 floats; one thread per pack.
__global__ void update_range(float4* p, const float4* g, float4* m, long long lo, long long hi) {
  const long long i = lo + blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (i >= hi) return;
  float4 pp = p[i], mm = m[i];
  nag4(pp, g[i], mm);
  p[i] = pp;
  m[i] = mm;
}

// Buckets in order; bucket k is packs [start[k], start[k+1]). Every block waits for flag[k] >= epoch (one
// thread polls, the block follows), then strides over the bucket. Blocks never wait for each other.
__global__ void update_persistent(float4* p, const float4* g, float4* m, const long long* start, int buckets,
                                  const volatile unsigned* flag, unsigned epoch) {
  for (int k = 0; k < buckets; ++k) {
    if (threadIdx.x == 0)
      while (flag[k] < epoch) {
      }
    __syncthreads();
    const long long hi = start[k + 1];
    for (long long i = start[k] + blockIdx.x * (long long)blockDim.x + threadIdx.x; i < hi;
         i += (long long)gridDim.x * blockDim.x) {
      float4 pp = p[i], mm = m[i];
      nag4(pp, g[i], mm);
      p[i] = pp;
      m[i] = mm;
    }
  }
}

__global__ void fill(float* x, long long n, unsigned seed, float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    unsigned h = (unsigned)i * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    x[i] = scale * ((h & 0xFFFFFF) / float(0xFFFFFF) - 0.5f);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  long long params = 304326632;  // vit_l_16
  int reps = 20;
  std::string json;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--params" && i + 1 < argc) {
      params = std::atoll(argv[++i]);
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else if (a == "--json" && i + 1 < argc) {
      json = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bucket_tail_probe [--params N] [--reps R] [--json FILE]\n");
      return 2;
    }
  }
  if (params < 4 || reps < 3) {
    std::fprintf(stderr, "bucket_tail_probe: --params must be >= 4 and --reps >= 3\n");
    return 2;
  }
  const long long packs = params / 4;
  params = packs * 4;
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  float *p, *g, *m, *evict;
  const long long evict_n = (256ll << 20) / 4;
  CK(cudaMalloc(&p, params * 4));
  CK(cudaMalloc(&g, params * 4));
  CK(cudaMalloc(&m, params * 4));
  CK(cudaMalloc(&evict, evict_n * 4));
  cudaStream_t st[4];
  for (auto& s : st)
    CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cudaEvent_t e0, e1, join[4];
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  for (auto& e : join)
    CK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  long long* d_start;
  unsigned* d_flag;
  const int max_buckets = 1 << 16;
  CK(cudaMalloc(&d_start, (max_buckets + 1) * sizeof(long long)));
  CK(cudaMalloc(&d_flag, max_buckets * sizeof(unsigned)));
  int blocks_per_sm = 0;
  CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks_per_sm, update_persistent, kThreads, 0));
  const int persistent_grid = prop.multiProcessorCount * blocks_per_sm;

  std::vector<float> p0(static_cast<size_t>(params)), g0(static_cast<size_t>(params)), m0(static_cast<size_t>(params));
  auto reset = [&]() {
    fill<<<1024, 256, 0, st[0]>>>(p, params, 1u, 2.0f);
    fill<<<1024, 256, 0, st[0]>>>(g, params, 2u, 1.0f);
    fill<<<1024, 256, 0, st[0]>>>(m, params, 3u, 0.5f);
    CK(cudaGetLastError());
    CK(cudaStreamSynchronize(st[0]));
  };
  reset();
  CK(cudaMemcpy(p0.data(), p, params * 4, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(g0.data(), g, params * 4, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(m0.data(), m, params * 4, cudaMemcpyDeviceToHost));

  std::FILE* js = json.empty() ? nullptr : std::fopen(json.c_str(), "w");
  if (!json.empty() && !js) {
    std::fprintf(stderr, "bucket_tail_probe: cannot write %s\n", json.c_str());
    return 2;
  }
  if (js)
    std::fprintf(js, "{\"benchmark\": \"bucket_tail_probe\", \"device\": \"%s\", \"sms\": %d, \"params\": %lld, \"reps\": %d, \"persistent_grid\": %d, \"rows\": [\n",
                 prop.name, prop.multiProcessorCount, params, reps, persistent_grid);
  std::printf("# %s, %d SMs; %lld fp32 params (20 B each), %d reps; persistent grid %d x %d\n", prop.name,
              prop.multiProcessorCount, params, reps, persistent_grid, kThreads);
  std::printf("%-8s %-8s %-12s %10s %10s %10s %8s %12s\n", "MiB", "buckets", "case", "median_us", "min_us",
              "max_us", "GB/s", "us/bucket+");
  bool first_row = true, all_ok = true;
  const double bytes = 20.0 * double(params);
  for (double mib : {2.0, 8.0, 25.0, 100.0, 400.0}) {
    const long long bucket_packs = (long long)(mib * (1 << 20)) / 16;
    std::vector<long long> start;
    for (long long s = 0; s < packs; s += bucket_packs)
      start.push_back(s);
    const int nb = int(start.size());
    start.push_back(packs);
    if (nb > max_buckets) continue;
    CK(cudaMemcpy(d_start, start.data(), start.size() * sizeof(long long), cudaMemcpyHostToDevice));
    std::vector<unsigned> ones(size_t(nb), 1u);
    CK(cudaMemcpy(d_flag, ones.data(), nb * sizeof(unsigned), cudaMemcpyHostToDevice));
    auto launch_bucket = [&](int k, cudaStream_t s) {
      const long long n = start[k + 1] - start[k];
      update_range<<<unsigned((n + kThreads - 1) / kThreads), kThreads, 0, s>>>(
          reinterpret_cast<float4*>(p), reinterpret_cast<const float4*>(g), reinterpret_cast<float4*>(m), start[k],
          start[k + 1]);
    };
    // Work enqueued after e0 on st[0]; other streams fork from and join back to st[0].
    auto by_streams = [&](int ns) {
      for (int j = 1; j < ns; ++j) {
        CK(cudaEventRecord(join[0], st[0]));
        CK(cudaStreamWaitEvent(st[j], join[0], 0));
      }
      for (int k = 0; k < nb; ++k)
        launch_bucket(k, st[k % ns]);
      for (int j = 1; j < ns; ++j) {
        CK(cudaEventRecord(join[j], st[j]));
        CK(cudaStreamWaitEvent(st[0], join[j], 0));
      }
    };
    cudaGraphExec_t graph_exec = nullptr;
    {
      cudaGraph_t graph;
      CK(cudaStreamBeginCapture(st[0], cudaStreamCaptureModeRelaxed));
      by_streams(1);
      CK(cudaStreamEndCapture(st[0], &graph));
      CK(cudaGraphInstantiate(&graph_exec, graph, 0));
      CK(cudaGraphDestroy(graph));
      CK(cudaGraphUpload(graph_exec, st[0]));
    }
    auto persistent = [&](int grid) {
      update_persistent<<<grid, kThreads, 0, st[0]>>>(reinterpret_cast<float4*>(p), reinterpret_cast<const float4*>(g),
                                                      reinterpret_cast<float4*>(m), d_start, nb, d_flag, 1u);
    };
    struct Case {
      const char* name;
      std::function<void()> run;
    };
    const std::vector<Case> cases = {
        {"one_kernel",
         [&]() {
           update_range<<<unsigned((packs + kThreads - 1) / kThreads), kThreads, 0, st[0]>>>(
               reinterpret_cast<float4*>(p), reinterpret_cast<const float4*>(g), reinterpret_cast<float4*>(m), 0,
               packs);
         }},
        {"streams_1", [&]() { by_streams(1); }},
        {"streams_2", [&]() { by_streams(2); }},
        {"streams_4", [&]() { by_streams(4); }},
        {"graph_1", [&]() { CK(cudaGraphLaunch(graph_exec, st[0])); }},
        {"persistent", [&]() { persistent(persistent_grid); }},
        {"persistent_2", [&]() { persistent(2 * prop.multiProcessorCount); }},
    };
    double floor_us = 0;
    for (const Case& c : cases) {
      reset();
      std::vector<double> us;
      for (int r = 0; r < reps + 2; ++r) {  // two warm-up steps
        fill<<<1024, 256, 0, st[0]>>>(evict, evict_n, unsigned(r), 1.0f);
        CK(cudaEventRecord(e0, st[0]));
        c.run();
        CK(cudaGetLastError());
        CK(cudaEventRecord(e1, st[0]));
        CK(cudaEventSynchronize(e1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        if (r >= 2) us.push_back(1e3 * ms);
      }
      // Check: reps + 2 steps of the rule from the initial values, at a sample of elements.
      std::vector<float> got(static_cast<size_t>(params));
      CK(cudaMemcpy(got.data(), p, params * 4, cudaMemcpyDeviceToHost));
      long long bad = 0, checked = 0;
      auto check = [&](long long i) {
        double pp = p0[size_t(i)], mm = m0[size_t(i)], gg = g0[size_t(i)];
        for (int r = 0; r < reps + 2; ++r) {
          mm = kMu * mm + gg;
          pp -= kLr * (gg + kMu * mm);
        }
        ++checked;
        if (std::fabs(got[size_t(i)] - pp) > 1e-5 * (1 + std::fabs(pp))) ++bad;
      };
      for (int k = 0; k < nb; ++k)
        check(start[k] * 4);
      for (long long i = 1; i < params; i += 7919)
        check(i);
      const double med = median(us);
      if (std::string(c.name) == "one_kernel") floor_us = med;
      const double mn = *std::min_element(us.begin(), us.end()), mx = *std::max_element(us.begin(), us.end());
      const double extra = (med - floor_us) / nb;
      std::printf("%-8.0f %-8d %-12s %10.1f %10.1f %10.1f %8.0f %12.2f%s\n", mib, nb, c.name, med, mn, mx,
                  bytes / (med * 1e-6) / 1e9, extra, bad ? "  CHECK FAILED" : "");
      if (bad) {
        std::fprintf(stderr, "bucket_tail_probe: %s at %.0f MiB: %lld of %lld sampled parameters differ from the replay\n",
                     c.name, mib, bad, checked);
        all_ok = false;
      }
      if (js) {
        std::fprintf(js,
                     "%s  {\"bucket_mib\": %.0f, \"buckets\": %d, \"case\": \"%s\", \"median_us\": %.2f, \"min_us\": "
                     "%.2f, \"max_us\": %.2f, \"gbps\": %.1f, \"us_per_bucket_beyond_one_kernel\": %.3f, "
                     "\"checked\": %lld, \"mismatches\": %lld}",
                     first_row ? "" : ",\n", mib, nb, c.name, med, mn, mx, bytes / (med * 1e-6) / 1e9, extra,
                     checked, bad);
        first_row = false;
      }
    }
    CK(cudaGraphExecDestroy(graph_exec));
  }
  if (js) {
    std::fprintf(js, "\n]}\n");
    std::fclose(js);
  }
  return all_ok ? 0 : 1;
}
