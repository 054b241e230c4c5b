// The GEMMs of one layer of the issue-12 MLP (Linear(W, W), batch n per rank, fp32 with TF32 products), timed
// through the two cuBLAS interfaces, with and without cuBLASLt's fused epilogues, and the element-wise passes
// the epilogues replace. It answers: which interface and which epilogue should the mlp workload call, and how
// much of the per-layer time is outside the GEMMs. PyTorch's side of the same shapes is
// scripts/device/torch_mlp_kernels.py (run both in one device call on the same GPU).
//
//   nvcc -O2 -std=c++17 -arch=sm_90 scripts/device/gemm_probe.cu -lcublasLt -lcublas -o gemm_probe
//   ./gemm_probe [--width 4096] [--batch 2048] [--reps 50] [--json out.json]
//
// Shapes, column-major with one sample per column (as the mlp workload: activations W x n):
//   forward  Z = W^T(T) A       m = W, n = batch, k = W      (+ bias per row, ReLU)
//   dW       G = A dZ^T(N,T)    m = W, n = W,     k = batch  (bias gradient = dZ 1: BGRADB)
//   dX       D = W^T(N) dZ      m = W, n = batch, k = W      (ReLU's mask: DRELU from the forward's bitmask)
// Every timing: a warm-up, then reps launches between two events; median / min / max over 5 such groups, in
// microseconds per launch. Exit status 1 when a cuBLAS or CUDA call fails.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#define CK(x)                                                                                 \
  do {                                                                                        \
    cudaError_t e_ = (x);                                                                     \
    if (e_ != cudaSuccess) {                                                                  \
      std::fprintf(stderr, "gemm_probe: %s: %s\n", #x, cudaGetErrorString(e_));               \
      std::exit(1);                                                                           \
    }                                                                                         \
  } while (0)
#define CB(x)                                                                                 \
  do {                                                                                        \
    cublasStatus_t s_ = (x);                                                                  \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                        \
      std::fprintf(stderr, "gemm_probe: %s: %s\n", #x, cublasGetStatusString(s_));            \
      std::exit(1);                                                                           \
    }                                                                                         \
  } while (0)

namespace {

struct Stat {
  double med, lo, hi;
};

cudaStream_t stream;

Stat time_it(const std::function<void()>& f, int reps) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) f();
  std::vector<double> t;
  for (int g = 0; g < 5; ++g) {
    CK(cudaEventRecord(a, stream));
    for (int i = 0; i < reps; ++i) f();
    CK(cudaEventRecord(b, stream));
    CK(cudaEventSynchronize(b));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(1e3 * ms / reps);
  }
  std::sort(t.begin(), t.end());
  CK(cudaEventDestroy(a));
  CK(cudaEventDestroy(b));
  return {t[t.size() / 2], t.front(), t.back()};
}

__global__ void fill_random(float* x, size_t n, unsigned seed, float scale) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    unsigned v = unsigned(i) * 2654435761u ^ seed;
    v ^= v >> 13;
    v *= 0x5bd1e995u;
    v ^= v >> 15;
    x[i] = scale * (float(v & 0xffffff) / float(0x1000000) - 0.5f);
  }
}
__global__ void bias_act(float* z, const float* b, size_t rows, size_t count) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < count; e += size_t(gridDim.x) * blockDim.x) {
    const float v = z[e] + b[e % rows];
    z[e] = v < 0.f ? 0.f : v;
  }
}
__global__ void relu_mask(float* d, const float* a, size_t count) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < count; e += size_t(gridDim.x) * blockDim.x)
    d[e] = a[e] > 0.f ? d[e] : 0.f;
}

struct Row {
  std::string name;
  Stat s;
  double tflops;
};
std::vector<Row> rows;

void report(const std::string& name, Stat s, double flops) {
  const double tf = flops > 0 ? flops / (s.med * 1e-6) / 1e12 : 0;
  rows.push_back({name, s, tf});
  std::printf("%-44s %9.1f us  [%8.1f, %8.1f]", name.c_str(), s.med, s.lo, s.hi);
  if (flops > 0) std::printf("  %6.1f TFLOP/s", tf);
  std::printf("\n");
  std::fflush(stdout);
}

struct Lt {
  cublasLtHandle_t h;
  void* ws;
  size_t ws_size = size_t(32) << 20;
};

// One cuBLASLt matmul D = op(A) op(B) (fp32 in and out, TF32 compute) with an epilogue; returns false (and
// prints why) when the heuristic offers no algorithm for it.
bool lt_matmul(Lt& lt, bool ta, bool tb, int m, int n, int k, const float* A, int lda, const float* B, int ldb,
               float* D, int ldd, cublasLtEpilogue_t epi, const float* bias, void* aux, int64_t ld_aux,
               const std::string& name, double flops, int reps, int which_algo = 0, int* n_algos = nullptr) {
  cublasLtMatmulDesc_t op;
  CB(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F_FAST_TF32, CUDA_R_32F));
  cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  CB(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &oa, sizeof oa));
  CB(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &ob, sizeof ob));
  CB(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
  if (bias) CB(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
  if (aux) {
    CB(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &aux, sizeof aux));
    CB(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &ld_aux, sizeof ld_aux));
  }
  cublasLtMatrixLayout_t la, lb, ld;
  CB(cublasLtMatrixLayoutCreate(&la, CUDA_R_32F, ta ? k : m, ta ? m : k, lda));
  CB(cublasLtMatrixLayoutCreate(&lb, CUDA_R_32F, tb ? n : k, tb ? k : n, ldb));
  CB(cublasLtMatrixLayoutCreate(&ld, CUDA_R_32F, m, n, ldd));
  cublasLtMatmulPreference_t pref;
  CB(cublasLtMatmulPreferenceCreate(&pref));
  CB(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &lt.ws_size,
                                          sizeof lt.ws_size));
  cublasLtMatmulHeuristicResult_t res[8];
  int found = 0;
  cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(lt.h, op, la, lb, ld, ld, pref, 8, res, &found);
  bool ok = st == CUBLAS_STATUS_SUCCESS && found > which_algo;
  if (n_algos) *n_algos = st == CUBLAS_STATUS_SUCCESS ? found : 0;
  if (!ok) {
    if (which_algo == 0)
      std::printf("%-44s no algorithm (%s, %d found)\n", name.c_str(), cublasGetStatusString(st), found);
  } else {
    const float one = 1.f, zero = 0.f;
    const cublasLtMatmulAlgo_t* algo = &res[which_algo].algo;
    auto run = [&] {
      CB(cublasLtMatmul(lt.h, op, &one, A, la, B, lb, &zero, D, ld, D, ld, algo, lt.ws, lt.ws_size, stream));
    };
    report(name, time_it(run, reps), flops);
  }
  cublasLtMatmulPreferenceDestroy(pref);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(ld);
  cublasLtMatmulDescDestroy(op);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  int W = 4096, N = 2048, reps = 50;
  const char* json = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "gemm_probe: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--width") W = std::atoi(next());
    else if (a == "--batch") N = std::atoi(next());
    else if (a == "--reps") reps = std::atoi(next());
    else if (a == "--json") json = next();
    else {
      std::fprintf(stderr, "gemm_probe: unknown argument '%s' (--width --batch --reps --json)\n", a.c_str());
      return 2;
    }
  }
  if (W < 1 || N < 1 || reps < 1) {
    std::fprintf(stderr, "gemm_probe: sizes and reps must be positive\n");
    return 2;
  }
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  std::printf("gemm_probe on %s: width %d, batch %d, %d launches per timing\n", prop.name, W, N, reps);
  CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const size_t act = size_t(W) * N, wsz = size_t(W) * W;
  float *Wt, *A, *Z, *dZ, *G, *D, *b, *db, *ones;
  CK(cudaMalloc(&Wt, wsz * 4));
  CK(cudaMalloc(&G, wsz * 4));
  CK(cudaMalloc(&A, act * 4));
  CK(cudaMalloc(&Z, act * 4));
  CK(cudaMalloc(&dZ, act * 4));
  CK(cudaMalloc(&D, act * 4));
  CK(cudaMalloc(&b, W * 4));
  CK(cudaMalloc(&db, W * 4));
  CK(cudaMalloc(&ones, N * 4));
  const float s = 1.f / std::sqrt(float(W));
  fill_random<<<1024, 256, 0, stream>>>(Wt, wsz, 1, 2 * s);
  fill_random<<<1024, 256, 0, stream>>>(A, act, 2, 2.f);
  fill_random<<<1024, 256, 0, stream>>>(dZ, act, 3, 2e-3f);
  fill_random<<<1024, 256, 0, stream>>>(b, W, 4, 2 * s);
  std::vector<float> h1(N, 1.f);
  CK(cudaMemcpy(ones, h1.data(), N * 4, cudaMemcpyHostToDevice));
  // The ReLU bitmask: one bit per element, the leading dimension a multiple of 128 (cuBLASLt's rule for it).
  const int64_t ld_aux = (int64_t(W) + 127) / 128 * 128;
  void* aux;
  CK(cudaMalloc(&aux, size_t(ld_aux) * N / 8));
  const double fl = 2.0 * W * double(W) * N;

  cublasHandle_t h;
  CB(cublasCreate(&h));
  CB(cublasSetStream(h, stream));
  CB(cublasSetMathMode(h, CUBLAS_TF32_TENSOR_OP_MATH));
  const float one = 1.f, zero = 0.f;
  report("cublasSgemm fwd  T,N", time_it([&] {
           CB(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, W, N, W, &one, Wt, W, A, W, &zero, Z, W));
         }, reps), fl);
  report("cublasSgemm dW   N,T", time_it([&] {
           CB(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, W, W, N, &one, A, W, dZ, W, &zero, G, W));
         }, reps), fl);
  report("cublasSgemm dX   N,N", time_it([&] {
           CB(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, W, N, W, &one, Wt, W, dZ, W, &zero, D, W));
         }, reps), fl);
  report("cublasSgemv db (dZ 1)", time_it([&] {
           CB(cublasSgemv(h, CUBLAS_OP_N, W, N, &one, dZ, W, ones, 1, &zero, db, 1));
         }, reps), 0);
  const int grid = prop.multiProcessorCount * 8;
  report("bias_act kernel (z + b, ReLU)", time_it([&] { bias_act<<<grid, 256, 0, stream>>>(Z, b, W, act); }, reps),
         0);
  report("relu_mask kernel", time_it([&] { relu_mask<<<grid, 256, 0, stream>>>(D, A, act); }, reps), 0);

  Lt lt;
  CB(cublasLtCreate(&lt.h));
  CK(cudaMalloc(&lt.ws, lt.ws_size));
  int na = 0;
  lt_matmul(lt, true, false, W, N, W, Wt, W, A, W, Z, W, CUBLASLT_EPILOGUE_DEFAULT, nullptr, nullptr, 0,
            "Lt fwd T,N (algo 0)", fl, reps, 0, &na);
  for (int a = 1; a < na; ++a)
    lt_matmul(lt, true, false, W, N, W, Wt, W, A, W, Z, W, CUBLASLT_EPILOGUE_DEFAULT, nullptr, nullptr, 0,
              "Lt fwd T,N (algo " + std::to_string(a) + ")", fl, reps, a);
  lt_matmul(lt, true, false, W, N, W, Wt, W, A, W, Z, W, CUBLASLT_EPILOGUE_BIAS, b, nullptr, 0,
            "Lt fwd T,N + BIAS", fl, reps);
  lt_matmul(lt, true, false, W, N, W, Wt, W, A, W, Z, W, CUBLASLT_EPILOGUE_RELU_BIAS, b, nullptr, 0,
            "Lt fwd T,N + RELU_BIAS", fl, reps);
  lt_matmul(lt, true, false, W, N, W, Wt, W, A, W, Z, W, CUBLASLT_EPILOGUE_RELU_AUX_BIAS, b, aux, ld_aux,
            "Lt fwd T,N + RELU_AUX_BIAS", fl, reps);
  lt_matmul(lt, false, true, W, W, N, A, W, dZ, W, G, W, CUBLASLT_EPILOGUE_DEFAULT, nullptr, nullptr, 0,
            "Lt dW N,T (algo 0)", fl, reps, 0, &na);
  for (int a = 1; a < na; ++a)
    lt_matmul(lt, false, true, W, W, N, A, W, dZ, W, G, W, CUBLASLT_EPILOGUE_DEFAULT, nullptr, nullptr, 0,
              "Lt dW N,T (algo " + std::to_string(a) + ")", fl, reps, a);
  lt_matmul(lt, false, true, W, W, N, A, W, dZ, W, G, W, CUBLASLT_EPILOGUE_BGRADB, db, nullptr, 0,
            "Lt dW N,T + BGRADB", fl, reps);
  lt_matmul(lt, false, false, W, N, W, Wt, W, dZ, W, D, W, CUBLASLT_EPILOGUE_DEFAULT, nullptr, nullptr, 0,
            "Lt dX N,N (algo 0)", fl, reps, 0, &na);
  for (int a = 1; a < na; ++a)
    lt_matmul(lt, false, false, W, N, W, Wt, W, dZ, W, D, W, CUBLASLT_EPILOGUE_DEFAULT, nullptr, nullptr, 0,
              "Lt dX N,N (algo " + std::to_string(a) + ")", fl, reps, a);
  lt_matmul(lt, false, false, W, N, W, Wt, W, dZ, W, D, W, CUBLASLT_EPILOGUE_DRELU, nullptr, aux, ld_aux,
            "Lt dX N,N + DRELU", fl, reps);
  lt_matmul(lt, false, false, W, N, W, Wt, W, dZ, W, D, W, CUBLASLT_EPILOGUE_DRELU_BGRAD, db, aux, ld_aux,
            "Lt dX N,N + DRELU_BGRAD", fl, reps);
  CK(cudaDeviceSynchronize());
  if (json) {
    FILE* f = std::fopen(json, "w");
    if (!f) {
      std::fprintf(stderr, "gemm_probe: cannot write %s\n", json);
      return 1;
    }
    std::fprintf(f, "{\"benchmark\": \"gemm_probe\", \"device\": \"%s\", \"width\": %d, \"batch\": %d, \"reps\": %d, \"rows\": [", prop.name, W, N,
                 reps);
    for (size_t i = 0; i < rows.size(); ++i)
      std::fprintf(f, "%s{\"name\": \"%s\", \"median_us\": %.3f, \"min_us\": %.3f, \"max_us\": %.3f, \"tflops\": %.2f}",
                   i ? ", " : "", rows[i].name.c_str(), rows[i].s.med, rows[i].s.lo, rows[i].s.hi, rows[i].tflops);
    std::fprintf(f, "]}\n");
    std::fclose(f);
  }
  return 0;
}
