# shellcheck shell=bash
# Sourced by the GPU-machine scripts in this folder. They run binaries built elsewhere (scripts/build.sh cuda,
# carried in build/cuda), write everything under $OUT (or ./out/device), and never build anything.
set -uo pipefail
export NCCL_NVLS_ENABLE=0  # never NVLink multicast: it can take a shared host's GPUs out of service
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${NAGBENCH_BUILD:-$repo/build/cuda}
OUT=${OUT:-$repo/out/device}
mkdir -p "$OUT"
# scripts/device/stage.sh carries the binaries gzip-compressed: unpack them once.
for z in "$B"/bin/*.gz; do
  [[ -e $z ]] && gunzip -f "$z" && chmod +x "${z%.gz}"
done
# CTest files hold the absolute paths of the build machine; make them valid here.
if [[ ! -e /work/main && -w / ]]; then mkdir -p /work && ln -s "$repo" /work/main; fi
# The CUDA runtime and cuBLAS of the GPU image, wherever it keeps them.
if ldd "$B/bin/nagbench" | grep -q "not found"; then
  for lib in libcudart.so.13 libcublas.so.13; do
    d=$(find /usr/local /usr/lib /opt -name "$lib" -printf '%h\n' 2>/dev/null | head -1)
    [[ -n "$d" ]] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
  done
fi
# The training workloads' data files: the machine's python3-sklearn, else the copy stage.sh carried.
if [[ -z "${NAGBENCH_DATA_DIR:-}" && ! -f /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz &&
  -f "$B/share/nagbench/sklearn-data/digits.csv.gz" ]]; then
  export NAGBENCH_DATA_DIR="$B/share/nagbench/sklearn-data"
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Each rank binds its OpenMP threads inside the cores its launcher gave it (mpirun --map-by ppr:N:node:PE=T
# --bind-to core); without that binding, OMP_PROC_BIND would pile every rank onto the first cores.
export OMP_PROC_BIND=spread OMP_PLACES=cores
gpu_name() { nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr ' ' '_'; }
# The GPUs (name, UUID, memory, driver) and the host CPU, printed and kept in $OUT/device.txt.
describe_machine() {
  {
    nvidia-smi --query-gpu=index,name,uuid,memory.total,driver_version --format=csv
    lscpu | grep -E "Model name|L3|^CPU\(s\)"
  } 2>&1 | tee "$OUT/device.txt"
}

# The suites' sections: step <limit seconds> <name> <command or shell function> <args...> runs it under the suite's
# global deadline ($deadline, in $SECONDS) and then calls the suite's `pack` (which bundles what came out so far).
# `timeout` runs programs, not functions, so a function runs in a bash handed the definitions named in
# $STEP_FUNCTIONS. want <section>: whether $SECTIONS (default all) asks for it.
step() {
  # shellcheck disable=SC2154 # deadline: set by the suite that sources this file
  local max=$1 name=$2 left=$((deadline - SECONDS))
  shift 2
  if ((left < 15)); then echo "=== SKIPPED $name"; return; fi
  ((max > left)) && max=$left
  echo "=== $name (limit ${max}s, t=${SECONDS}s)"
  if declare -F "$1" >/dev/null; then
    # shellcheck disable=SC2086 # a list of function names
    timeout -k 5 "$max" bash -c "$(declare -f ${STEP_FUNCTIONS:-$1}); $(printf '%q ' "$@")"
  else
    timeout -k 5 "$max" "$@"
  fi
  echo "=== $name: exit $? (t=${SECONDS}s)"
  pack
}
want() { [[ " ${SECTIONS:-all} " == *" all "* || " ${SECTIONS:-} " == *" $1 "* ]]; }
