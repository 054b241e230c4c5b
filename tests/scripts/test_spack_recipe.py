"""scripts/spack: the Spack recipe, parsed (Spack is not installed here): its variants, dependencies and cmake_args
agree with each other and with the CMake options of CMakeLists.txt (NAGBENCH_ENABLE_{MPI,NCCL,TESTS,BENCHMARKS,
KOKKOSKERNELS}), Kokkos gets the backends and the CUDA architecture nagbench needs, and repo.yaml names it."""
import ast
import os
import re

import yaml

from helpers import REPO

SPACK = os.path.join(REPO, "scripts", "spack")
RECIPE = os.path.join(SPACK, "packages", "nagbench", "package.py")
OPTIONS = ["NAGBENCH_ENABLE_MPI", "NAGBENCH_ENABLE_NCCL", "NAGBENCH_ENABLE_TESTS", "NAGBENCH_ENABLE_BENCHMARKS",
           "NAGBENCH_ENABLE_KOKKOSKERNELS"]


def calls(tree, name):
    """Every call of a function `name` in the tree: (positional string args, keyword args as strings)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == name:
            args = [a.value if isinstance(a, ast.Constant) else ast.unparse(a) for a in node.args]
            kw = {k.arg: (k.value.value if isinstance(k.value, ast.Constant) else ast.unparse(k.value))
                  for k in node.keywords}
            out.append((args, kw))
    return out


def recipe():
    return ast.parse(open(RECIPE).read(), RECIPE)


def cmake_options():
    text = open(os.path.join(REPO, "CMakeLists.txt")).read()
    return set(re.findall(r"(?:option|cmake_dependent_option)\((NAGBENCH_\w+)", text))


def test_class_is_a_cmake_and_cuda_package():
    classes = [n for n in ast.walk(recipe()) if isinstance(n, ast.ClassDef)]
    assert len(classes) == 1 and classes[0].name == "Nagbench"
    assert [b.id for b in classes[0].bases] == ["CMakePackage", "CudaPackage"]  # +cuda and cuda_arch= from Spack


def test_variants_and_cmake_args_match_the_cmake_options():
    tree = recipe()
    variants = {a[0] for a, _ in calls(tree, "variant")}
    assert {"openmp", "mpi", "nccl", "benchmarks", "kokkoskernels"} <= variants
    cmake_args = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "cmake_args"]
    assert len(cmake_args) == 1
    from_variant = {a[0]: a[1] for a, _ in calls(cmake_args[0], "define_from_variant")}
    defined = {a[0] for a, _ in calls(cmake_args[0], "define")}
    assert set(OPTIONS) <= set(from_variant) | defined
    assert set(from_variant) | (defined - {"CMAKE_CXX_COMPILER"}) <= cmake_options(), "an option CMake does not have"
    for option, variant in from_variant.items():
        assert variant in variants, (option, variant)
        assert option == "NAGBENCH_ENABLE_" + variant.upper()
    assert set(OPTIONS) <= cmake_options()


def test_dependencies_give_kokkos_what_the_code_needs():
    deps = {(a[0], kw.get("when")) for a, kw in calls(recipe(), "depends_on")}
    kokkos_min = re.search(r"find_package\(Kokkos (\d+\.\d+)", open(os.path.join(REPO, "CMakeLists.txt")).read())
    assert (f"kokkos@{kokkos_min.group(1)}:", None) in deps
    assert ("kokkos+openmp", "+openmp") in deps
    assert ("kokkos+cuda+wrapper", "+cuda") in deps and ("kokkos+cuda_lambda", "+cuda") in deps
    # cuda_arch= reaches Kokkos (and Kokkos Kernels, NCCL) through the f-string loop over CudaPackage's values
    text = open(RECIPE).read()
    assert 'depends_on(f"kokkos+cuda cuda_arch={_arch}", when=f"+cuda cuda_arch={_arch}")' in text
    for dep, when in [("mpi", "+mpi"), ("nccl", "+nccl"), ("benchmark", "+benchmarks"),
                      ("kokkos-kernels@3.4:", "+kokkoskernels")]:
        assert (dep, when) in deps, dep
    for dep in ("cli11", "nlohmann-json@3.9:", "yaml-cpp"):
        assert (dep, None) in deps, dep
    assert ("googletest", None) in deps  # type="test": NAGBENCH_ENABLE_TESTS follows run_tests


def test_conflicts_state_the_cmake_conditions():
    conflicts = {(a[0], kw.get("when")) for a, kw in calls(recipe(), "conflicts")}
    # CMakeLists.txt: NAGBENCH_ENABLE_NCCL depends on Kokkos_ENABLE_CUDA and NAGBENCH_ENABLE_MPI
    assert ("+nccl", "~cuda") in conflicts and ("+nccl", "~mpi") in conflicts
    assert ("cuda_arch=none", "+cuda") in conflicts


def test_python_tools_run_dependencies():
    deps = {a[0] for a, kw in calls(recipe(), "depends_on") if kw.get("type") == "run"}
    for module, pkg in (("yaml", "py-pyyaml"), ("jsonschema", "py-jsonschema"), ("jinja2", "py-jinja2"),
                        ("pandas", "py-pandas"), ("matplotlib", "py-matplotlib"), ("scipy", "py-scipy")):
        assert any(d.startswith(pkg) for d in deps), pkg
        for tool in ("job_scripts/nagbench-sweep", "scripts/report/nagbench-report"):
            if module in open(os.path.join(REPO, tool)).read():
                break
        else:
            raise AssertionError(f"{pkg}: no tool imports {module}")


def test_repo_yaml():
    doc = yaml.safe_load(open(os.path.join(SPACK, "repo.yaml")))
    assert doc["repo"]["namespace"] == "nagbench"
