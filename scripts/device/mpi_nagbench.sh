#!/usr/bin/env bash
# mpi_nagbench.sh <ranks> <record name> <nagbench args...>: one mpirun of the CUDA build, one rank per GPU, record
# in $RES/<name>.json. A script (not a shell function) so that `timeout` can run it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
np=$1 name=$2
shift 2
# Each rank gets its GPU's share of the physical cores (PE counts cores, not hardware threads).
cores=$(lscpu -p=SOCKET,CORE | grep -v '^#' | sort -u | wc -l)
threads=$((cores / $(nvidia-smi -L | wc -l)))
((threads < 1)) && threads=1
extra=()
for v in NCCL_DEBUG NCCL_DEBUG_SUBSYS NAGBENCH_P2P_REDUCE NAGBENCH_P2P_FLAGS NAGBENCH_P2P_START_AHEAD NAGBENCH_P2P_PUSH_THREADS NAGBENCH_NCCL_REGISTER; do [[ -n "${!v:-}" ]] && extra+=(-x "$v"); done
# NAGBENCH_BIND=none: no binding (for comparisons only); NAGBENCH_EXE: another nagbench binary.
if [[ "${NAGBENCH_BIND:-core}" == none ]]; then
  bind=(--bind-to none)
  export OMP_PROC_BIND=false
else
  bind=(--map-by ppr:"$np":node:PE="$threads" --bind-to core --report-bindings)
fi
exec mpirun --allow-run-as-root -np "$np" "${bind[@]}" \
  --mca btl_vader_single_copy_mechanism none \
  -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH -x OMP_NUM_THREADS="$threads" -x OMP_PROC_BIND -x OMP_PLACES "${extra[@]}" \
  "${NAGBENCH_EXE:-$B/bin/nagbench}" -b cuda -q -o "${RES:?}/$name.json" "$@"
