// nagbench_nccl_probe: ncclAllReduce timed exactly as `nagbench --comm-only` times it, without Kokkos, on a
// chosen kind of stream and buffer. A diagnostic for comparing nagbench's allreduce with other NCCL users
// (PyTorch, nccl-tests): if the probe matches them and nagbench does not, the difference is in nagbench.
//
//   mpirun -np 2 nagbench_nccl_probe --bytes 1G --stream legacy|nonblocking|high --reps 10
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& what, int code) {
  std::fprintf(stderr, "nagbench_nccl_probe: error: %s\n", what.c_str());
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

void check_cuda(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) fail(std::string(what) + ": " + cudaGetErrorString(rc), 1);
}
void check_nccl(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess) fail(std::string(what) + ": " + ncclGetErrorString(rc), 1);
}

long long parse_bytes(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const std::string unit(end);
  const double scale = unit.empty()  ? 1
                       : unit == "K" ? 1 << 10
                       : unit == "M" ? 1 << 20
                       : unit == "G" ? 1 << 30
                                     : -1;
  if (end == text.c_str() || scale < 0 || v <= 0) fail("--bytes: not a size: '" + text + "'", 2);
  return static_cast<long long>(v * scale) / 4 * 4;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  std::vector<long long> sizes;
  std::string stream_kind = "nonblocking", cache = "untouched";
  int iters = 20, reps = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(a + " needs a value", 2);
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      if (rank == 0)
        std::printf(
            "usage: mpirun -np N nagbench_nccl_probe [--bytes SIZE]... [--stream legacy|nonblocking|high]"
            " [--device-cache untouched|prefer-shared|prefer-l1|prefer-none] [--iters 20] [--reps 10]\n");
      MPI_Finalize();
      return 0;
    } else if (a == "--bytes") {
      sizes.push_back(parse_bytes(value()));
    } else if (a == "--stream") {
      stream_kind = value();
      if (stream_kind != "legacy" && stream_kind != "nonblocking" && stream_kind != "high")
        fail("--stream takes legacy, nonblocking or high (got '" + stream_kind + "')", 2);
    } else if (a == "--device-cache") {  // what Kokkos::Cuda::initialize sets (3.4: prefer-shared)
      cache = value();
      if (cache != "untouched" && cache != "prefer-shared" && cache != "prefer-l1" && cache != "prefer-none")
        fail("--device-cache takes untouched, prefer-shared, prefer-l1 or prefer-none (got '" + cache + "')",
             2);
    } else if (a == "--iters") {
      iters = std::atoi(value().c_str());
    } else if (a == "--reps") {
      reps = std::atoi(value().c_str());
    } else {
      fail("unknown option '" + a + "'", 2);
    }
  }
  if (iters < 1 || reps < 1) fail("--iters and --reps must be >= 1", 2);
  if (sizes.empty()) sizes = {1LL << 30};

  int devices = 0;
  check_cuda(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local);
  int local_rank = 0;
  MPI_Comm_rank(local, &local_rank);
  check_cuda(cudaSetDevice(local_rank % devices), "cudaSetDevice");

  if (cache != "untouched")
    check_cuda(cudaDeviceSetCacheConfig(cache == "prefer-shared" ? cudaFuncCachePreferShared
                                        : cache == "prefer-l1"   ? cudaFuncCachePreferL1
                                                                 : cudaFuncCachePreferNone),
               "cudaDeviceSetCacheConfig");
  cudaStream_t stream = nullptr;  // legacy: the default stream, as PyTorch's synchronous collectives use
  if (stream_kind != "legacy") {
    int least = 0, greatest = 0;
    check_cuda(cudaDeviceGetStreamPriorityRange(&least, &greatest), "cudaDeviceGetStreamPriorityRange");
    check_cuda(cudaStreamCreateWithPriority(&stream, cudaStreamNonBlocking,
                                            stream_kind == "high" ? greatest : least),
               "cudaStreamCreateWithPriority");
  }
  ncclUniqueId id;
  if (rank == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD);
  ncclComm_t comm;
  check_nccl(ncclCommInitRank(&comm, ranks, id, rank), "ncclCommInitRank");

  const long long max_bytes = *std::max_element(sizes.begin(), sizes.end());
  float* buf = nullptr;
  float* one = nullptr;
  check_cuda(cudaMalloc(&buf, max_bytes), "cudaMalloc");
  check_cuda(cudaMalloc(&one, sizeof(float)), "cudaMalloc");
  check_cuda(cudaMemset(buf, 0, max_bytes), "cudaMemset");
  for (long long bytes : sizes) {
    const size_t count = bytes / 4;
    for (int w = 0; w < 3; ++w)
      check_nccl(ncclAllReduce(buf, buf, count, ncclFloat32, ncclSum, comm, stream), "ncclAllReduce");
    check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    std::vector<double> per_op;
    for (int r = 0; r < reps; ++r) {
      check_nccl(ncclAllReduce(one, one, 1, ncclFloat32, ncclSum, comm, stream), "ncclAllReduce");
      check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
      const auto t0 = std::chrono::steady_clock::now();
      for (int it = 0; it < iters; ++it)
        check_nccl(ncclAllReduce(buf, buf, count, ncclFloat32, ncclSum, comm, stream), "ncclAllReduce");
      check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
      per_op.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters);
    }
    std::sort(per_op.begin(), per_op.end());
    double median = per_op[per_op.size() / 2], slowest = 0;
    if (per_op.size() % 2 == 0) median = 0.5 * (per_op[per_op.size() / 2 - 1] + per_op[per_op.size() / 2]);
    MPI_Allreduce(&median, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    const double algbw = bytes / slowest / 1e9;
    if (rank == 0)
      std::printf(
          "probe %d ranks stream %-11s cache %-13s %12lld B  %10.1f us  algbw %7.1f  busbw %7.1f GB/s\n",
          ranks, stream_kind.c_str(), cache.c_str(), bytes, slowest * 1e6, algbw,
          algbw * 2.0 * (ranks - 1) / ranks);
  }
  check_cuda(cudaFree(buf), "cudaFree");
  check_cuda(cudaFree(one), "cudaFree");
  ncclCommDestroy(comm);
  if (stream) cudaStreamDestroy(stream);
  MPI_Comm_free(&local);
  MPI_Finalize();
  return 0;
}
