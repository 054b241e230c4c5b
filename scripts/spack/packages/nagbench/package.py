# nagbench's Spack recipe, kept in its repository (scripts/spack, a Spack package repository: docs/reports.md).
# Modelled on Spack's recipes of BabelStream and Cabana (CMakePackage + CudaPackage, cuda_arch propagated to
# Kokkos). tests/scripts/test_spack_recipe.py parses it and checks it against the CMake options.
import os

from spack.package import *

try:  # Spack 1.0 and later keep the build systems in the builtin package repository
    from spack_repo.builtin.build_systems.cmake import CMakePackage
    from spack_repo.builtin.build_systems.cuda import CudaPackage
except ImportError:  # earlier Spack exports them from spack.package
    pass

# The checkout this recipe sits in (scripts/spack/packages/nagbench/ -> the repository root): `@main` builds it.
_REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


class Nagbench(CMakePackage, CudaPackage):
    """Kokkos benchmark of data-parallel Nesterov (torch.optim.SGD) optimizer steps: the update against the
    measured memory roof, bucketed allreduce (MPI or NCCL) across ranks, verified against a float64 reference."""

    git = "file://" + _REPOSITORY
    version("main", branch="main")

    variant("openmp", default=True, description="Kokkos OpenMP backend (the host backend on CPU nodes)")
    variant("mpi", default=True, description="Data parallelism across MPI ranks (NAGBENCH_ENABLE_MPI)")
    variant("nccl", default=False, description="NCCL communicator (NAGBENCH_ENABLE_NCCL; needs +cuda +mpi)")
    variant("benchmarks", default=False, description="Google Benchmark suites (NAGBENCH_ENABLE_BENCHMARKS)")
    variant("kokkoskernels", default=False,
            description="the 'unfused' variant on Kokkos Kernels BLAS-1 (NAGBENCH_ENABLE_KOKKOSKERNELS)")
    variant("tools", default=True, description="run-time Python packages of nagbench-sweep and nagbench-report")

    depends_on("cxx", type="build")
    depends_on("cmake@3.16:", type="build")

    # Kokkos 3.4 to 5.x (find_package(Kokkos 3.4)); Serial is always built in; each backend nagbench runs on is
    # a Kokkos backend. On CUDA the kernels are device lambdas compiled through Kokkos' nvcc_wrapper.
    depends_on("kokkos@3.4:")
    depends_on("kokkos+openmp", when="+openmp")
    depends_on("kokkos+cuda+wrapper", when="+cuda")
    depends_on("kokkos+cuda_lambda", when="+cuda")  # as Cabana: device lambdas need it on Kokkos 3.x and 4.x
    for _arch in CudaPackage.cuda_arch_values:
        depends_on(f"kokkos+cuda cuda_arch={_arch}", when=f"+cuda cuda_arch={_arch}")
        depends_on(f"kokkos-kernels+cuda cuda_arch={_arch}", when=f"+kokkoskernels +cuda cuda_arch={_arch}")
    depends_on("kokkos-kernels@3.4:", when="+kokkoskernels")
    depends_on("kokkos-kernels+openmp", when="+kokkoskernels +openmp")

    depends_on("mpi", when="+mpi")
    depends_on("nccl", when="+nccl")
    for _arch in CudaPackage.cuda_arch_values:
        depends_on(f"nccl cuda_arch={_arch}", when=f"+nccl cuda_arch={_arch}")
    depends_on("cli11")
    depends_on("nlohmann-json@3.9:")
    depends_on("yaml-cpp")
    depends_on("benchmark", when="+benchmarks")
    depends_on("googletest", type="test")

    with when("+tools"):
        depends_on("python@3.9:", type="run")
        depends_on("py-pyyaml", type="run")
        depends_on("py-jsonschema@4:", type="run")
        depends_on("py-jinja2@3:", type="run")
        depends_on("py-pandas", type="run")
        depends_on("py-matplotlib", type="run")
        depends_on("py-scipy", type="run")

    conflicts("+nccl", when="~cuda", msg="the NCCL communicator needs +cuda")
    conflicts("+nccl", when="~mpi", msg="the NCCL communicator is bootstrapped over MPI: needs +mpi")
    conflicts("cuda_arch=none", when="+cuda", msg="give the GPU architecture: cuda_arch=90 for H100/H200")
    conflicts("~cuda~openmp", msg="nagbench needs a parallel backend: +cuda, +openmp or both")

    def cmake_args(self):
        args = [
            self.define_from_variant("NAGBENCH_ENABLE_MPI", "mpi"),
            self.define_from_variant("NAGBENCH_ENABLE_NCCL", "nccl"),
            self.define_from_variant("NAGBENCH_ENABLE_BENCHMARKS", "benchmarks"),
            self.define_from_variant("NAGBENCH_ENABLE_KOKKOSKERNELS", "kokkoskernels"),
            self.define("NAGBENCH_ENABLE_TESTS", self.run_tests),
        ]
        if self.spec.satisfies("+cuda"):
            # Kokkos' nvcc_wrapper compiles every translation unit (the kernels are device lambdas).
            args.append(self.define("CMAKE_CXX_COMPILER", self.spec["kokkos"].kokkos_cxx))
        return args
