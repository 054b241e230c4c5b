#!/usr/bin/env bash
# mpi_nagbench.sh <ranks> <record name> <nagbench args...>: one mpirun of the CUDA build, one rank per GPU, record
# in $RES/<name>.json. A script (not a shell function) so that `timeout` can run it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
np=$1 name=$2
shift 2
threads=$(($(nproc) / $(nvidia-smi -L | wc -l)))
exec mpirun --allow-run-as-root -np "$np" --map-by ppr:"$np":node:PE="$threads" --bind-to core --mca btl_vader_single_copy_mechanism none \
  -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH -x OMP_NUM_THREADS="$threads" -x OMP_PROC_BIND -x OMP_PLACES \
  "$B/bin/nagbench" -b cuda -q -o "${RES:?}/$name.json" "$@"
