// What a fenced update step of a small model costs besides its bytes (issue 14's resnet50 multi_tensor gap): the
// fixed cost of one synchronised launch, measured the way nagbench times a step (host clock, device-wide sync
// before and after), with plain CUDA and no Kokkos, next to a kernel that moves resnet50's bytes (25,557,032 fp32
// parameters, 20 B each: p, g, m read, p and m written) launched directly and from a CUDA graph.
//
//   nvcc -O3 -std=c++17 -arch=sm_90 scripts/device/launch_probe.cu -o launch_probe
//   ./launch_probe [--params 25557032] [--reps 400] [--json out.json]
//
// Cases, each timed as nagbench's time_fenced (cudaDeviceSynchronize; t0; work; cudaDeviceSynchronize; t1):
//   sync            nothing between the two syncs
//   empty           one empty kernel (1 block of 32 threads)
//   empty_graph     the same kernel as a one-node CUDA graph (cudaGraphLaunch)
//   update_N        the update-shaped kernel, one thread per 4 parameters (16-byte accesses), as nagbench's packs
//   update_N_graph  the same from a CUDA graph
//   update_N_stride the same bytes, grid-stride over 4 x SMs blocks of 512 threads (fewer, longer-lived blocks)
//   *_legacy        empty, empty_graph, update_N, update_N_graph launched into the legacy default stream (where
//                   Kokkos 3.4's default Cuda instance puts its work) instead of a non-blocking stream
// and, for the kernels, their duration between two CUDA events on the device (no host in the way). A 256 MiB
// buffer is written between steps so that every update starts with a cold L2, as in nagbench. Median, min and
// max over reps, in microseconds. Exit status 1 when a CUDA call fails.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#define CK(x)                                                                     \
  do {                                                                            \
    cudaError_t e_ = (x);                                                         \
    if (e_ != cudaSuccess) {                                                      \
      std::fprintf(stderr, "launch_probe: %s: %s\n", #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                               \
    }                                                                             \
  } while (0)

__global__ void empty_kernel() {}

// p, m <- SGD with Nesterov momentum from p, g, m for one pack of 4 (the arithmetic does not matter here; the
// bytes do).
__device__ void update_pack(float4* p, const float4* g, float4* m, long long i) {
  float4 pv = p[i], gv = g[i], mv = m[i];
  mv.x = 0.9f * mv.x + gv.x;
  mv.y = 0.9f * mv.y + gv.y;
  mv.z = 0.9f * mv.z + gv.z;
  mv.w = 0.9f * mv.w + gv.w;
  pv.x -= 0.01f * (gv.x + 0.9f * mv.x);
  pv.y -= 0.01f * (gv.y + 0.9f * mv.y);
  pv.z -= 0.01f * (gv.z + 0.9f * mv.z);
  pv.w -= 0.01f * (gv.w + 0.9f * mv.w);
  m[i] = mv;
  p[i] = pv;
}

// One thread per pack, as nagbench's kernels.
__global__ void update_packs(float4* p, const float4* g, float4* m, long long packs) {
  const long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (i < packs) update_pack(p, g, m, i);
}

// The same bytes from fewer, longer-lived blocks.
__global__ void update_stride(float4* p, const float4* g, float4* m, long long packs) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < packs;
       i += (long long)gridDim.x * blockDim.x)
    update_pack(p, g, m, i);
}

struct Stats {
  double median, min, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {med, v.front(), v.back()};
}

int main(int argc, char** argv) {
  long long params = 25557032;
  int reps = 400;
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
      std::fprintf(stderr, "launch_probe: unknown argument '%s' (--params N --reps R --json FILE)\n", a.c_str());
      return 2;
    }
  }
  if (params < 4 || reps < 5) {
    std::fprintf(stderr, "launch_probe: --params must be >= 4 and --reps >= 5\n");
    return 2;
  }
  const long long packs = params / 4;
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  float4 *p, *g, *m;
  char* evict;
  const size_t evict_bytes = size_t(256) << 20;
  CK(cudaMalloc(&p, packs * sizeof(float4)));
  CK(cudaMalloc(&g, packs * sizeof(float4)));
  CK(cudaMalloc(&m, packs * sizeof(float4)));
  CK(cudaMalloc(&evict, evict_bytes));
  CK(cudaMemset(p, 0, packs * sizeof(float4)));
  CK(cudaMemset(g, 0, packs * sizeof(float4)));
  CK(cudaMemset(m, 0, packs * sizeof(float4)));
  cudaStream_t stream;
  CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  const int threads = 256;
  const unsigned blocks = unsigned((packs + threads - 1) / threads);
  const unsigned stride_blocks = unsigned(4 * prop.multiProcessorCount);
  auto launch_empty = [&] { empty_kernel<<<1, 32, 0, stream>>>(); };
  auto launch_update = [&] { update_packs<<<blocks, threads, 0, stream>>>(p, g, m, packs); };
  auto launch_stride = [&] { update_stride<<<stride_blocks, 512, 0, stream>>>(p, g, m, packs); };
  auto graph_of = [&](const std::function<void()>& launch) {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
    launch();
    CK(cudaStreamEndCapture(stream, &graph));
    CK(cudaGraphInstantiate(&exec, graph, 0));
    CK(cudaGraphDestroy(graph));
    return exec;
  };
  cudaGraphExec_t empty_graph = graph_of(launch_empty);
  cudaGraphExec_t update_graph = graph_of(launch_update);

  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  const std::string tag = "update_" + std::to_string(params);
  struct Case {
    std::string name;
    std::function<void()> work;
    bool cold;                      // an update: evict L2 before each step, time it between events too
    cudaStream_t on = nullptr;      // where its work goes (the evicting write and events go there too)
  };
  std::vector<Case> cases = {
      {"sync", [] {}, false, stream},
      {"empty", launch_empty, false, stream},
      {"empty_graph", [&] { CK(cudaGraphLaunch(empty_graph, stream)); }, false, stream},
      {tag, launch_update, true, stream},
      {tag + "_graph", [&] { CK(cudaGraphLaunch(update_graph, stream)); }, true, stream},
      {tag + "_stride", launch_stride, true, stream},
      {"empty_legacy", [] { empty_kernel<<<1, 32>>>(); }, false, nullptr},
      {"empty_graph_legacy", [&] { CK(cudaGraphLaunch(empty_graph, 0)); }, false, nullptr},
      {tag + "_legacy", [&] { update_packs<<<blocks, threads>>>(p, g, m, packs); }, true, nullptr},
      {tag + "_graph_legacy", [&] { CK(cudaGraphLaunch(update_graph, 0)); }, true, nullptr},
  };
  std::string out = "{\"benchmark\":\"launch_probe\",\"device\":\"" + std::string(prop.name) +
                    "\",\"params\":" + std::to_string(params) + ",\"reps\":" + std::to_string(reps) +
                    ",\"bytes_per_step\":" + std::to_string(20 * params) + ",\"cases\":[";
  std::printf("launch_probe on %s, %lld parameters (%lld bytes per update step), %d reps\n", prop.name, params,
              20 * params, reps);
  std::printf("%-28s %10s %10s %10s %12s %12s\n", "case", "median us", "min us", "max us", "device us", "GB/s");
  for (size_t c = 0; c < cases.size(); ++c) {
    std::vector<double> wall, device;
    for (int r = -5; r < reps; ++r) {
      if (cases[c].cold) CK(cudaMemsetAsync(evict, r & 0xff, evict_bytes, cases[c].on));
      CK(cudaDeviceSynchronize());
      const auto t0 = std::chrono::steady_clock::now();
      cases[c].work();
      CK(cudaDeviceSynchronize());
      const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (r >= 0) wall.push_back(w * 1e6);
      if (cases[c].cold) {  // the kernel alone between two events
        CK(cudaMemsetAsync(evict, r & 0xff, evict_bytes, cases[c].on));
        CK(cudaEventRecord(e0, cases[c].on));
        cases[c].work();
        CK(cudaEventRecord(e1, cases[c].on));
        CK(cudaEventSynchronize(e1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        if (r >= 0) device.push_back(ms * 1e3);
      }
    }
    CK(cudaGetLastError());
    const Stats s = stats(wall);
    const Stats d = device.empty() ? Stats{0, 0, 0} : stats(device);
    const double gbps = cases[c].cold ? 20.0 * params / (s.median * 1e-6) / 1e9 : 0.0;
    std::printf("%-28s %10.2f %10.2f %10.2f %12.2f %12.1f\n", cases[c].name.c_str(), s.median, s.min, s.max,
                d.median, gbps);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s{\"case\":\"%s\",\"median_us\":%.3f,\"min_us\":%.3f,\"max_us\":%.3f,\"device_median_us\":%.3f,"
                  "\"wall_GBps\":%.2f}",
                  c ? "," : "", cases[c].name.c_str(), s.median, s.min, s.max, d.median, gbps);
    out += buf;
  }
  out += "]}\n";
  if (!json.empty()) {
    FILE* f = std::fopen(json.c_str(), "w");
    if (!f || std::fputs(out.c_str(), f) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "launch_probe: cannot write %s\n", json.c_str());
      return 1;
    }
  }
  return 0;
}
