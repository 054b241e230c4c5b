#!/usr/bin/env bash
# The GPU-machine checks of the hardening, redesign and PyTorch-arithmetic issues (9, 10, 15), in sections, each
# under its own time limit and a global deadline (BUDGET seconds); everything lands in $OUT/session.tar.gz, re-packed
# after every step, plus $OUT/summary.txt. Binaries are carried, never built here:
#   .device/new      this commit's CUDA build (bin/, lib/, share/)          scripts/device/stage.sh
#   .device/old      the CUDA build of 6d723a2 (before issues 9, 10, 15)    (nagbench only)
#   .device/ompi     a CUDA-aware Open MPI (scripts/build_cuda_aware_mpi.sh) and .device/mpicuda, nagbench linked to it
#
#   BUDGET=560 SECTIONS="torch unit gate dpgate roof" bash scripts/device/session_suite.sh
#   BUDGET=560 SECTIONS="sanitizer cudaaware" bash scripts/device/session_suite.sh
# Sections: machine torch unit gate dpgate roof sanitizer cudaaware.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export NAGBENCH_BUILD=$repo/.device/new
source "$here/common.sh"
OLD=$repo/.device/old/bin/nagbench
NEW=$B/bin/nagbench
deadline=$((SECONDS + ${BUDGET:-300}))
RES=$OUT/session
mkdir -p "$RES"
pack() { tar -czf "$OUT/session.tar.gz.tmp" -C "$OUT" session && mv "$OUT/session.tar.gz.tmp" "$OUT/session.tar.gz"; }
STEP_FUNCTIONS="one mpi"  # the functions below, for `step` (common.sh)
gpus=$(nvidia-smi -L | wc -l)
cores=$(lscpu -p=SOCKET,CORE | grep -v '^#' | sort -u | wc -l)
export RES gpus cores
# One launch on one GPU, record to $RES/<name>.json: one <name> <binary> <nagbench args...>
one() {
  local name=$1 exe=$2
  shift 2
  OMP_NUM_THREADS=$cores "$exe" -q -o "$RES/$name.json" "$@"
}
# mpirun of <ranks> ranks bound to their share of the cores: mpi <ranks> <name> <binary> <args...>
mpi() {
  local np=$1 name=$2 exe=$3 threads=$((cores / gpus))
  shift 3
  mpirun --allow-run-as-root -np "$np" --map-by ppr:"$np":node:PE="$threads" --bind-to core \
    --mca btl_vader_single_copy_mechanism none -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH -x OMP_NUM_THREADS="$threads" \
    -x OMP_PROC_BIND -x OMP_PLACES "$exe" -b cuda -q -o "$RES/$name.json" "$@"
}
{
  if want machine; then
    step 20 "machine" bash -c 'nvidia-smi -L; nvidia-smi topo -m; lscpu | head -20; python3 -c "import torch; print(torch.__version__)"'
  fi

  if want torch; then
    step 90 "PyTorch SGD trajectories (CPU single, CPU foreach, CUDA fused)" env -u OMP_PROC_BIND -u OMP_PLACES \
      python3 "$repo/scripts/device/torch_sgd_trajectories.py" --out "$RES/torch_sgd_trajectories.json"
    mkdir -p "$B/share/nagbench/testdata" && cp "$RES/torch_sgd_trajectories.json" "$B/share/nagbench/testdata/" 2>/dev/null
  fi

  if want unit; then
    # Every unit test of the CUDA build (Cuda, OpenMP, Serial), the PyTorch bit-for-bit tests among them.
    step 240 "unit tests (new CUDA build)" env OMP_NUM_THREADS=8 OMP_PROC_BIND=false "$B/bin/nagbench_unit_tests" \
      --gtest_output=json:"$RES/unit_tests.json"
  fi

  if want gate; then
    # Issue 10's gate on one GPU: the same parameters' bits as the build before the redesign (its only arithmetic is
    # today's `separate`), and the same speed, old and new interleaved.
    for d in fp32 fp64 bf16 bf16_master; do
      v=naive,fused,multi_tensor,unfused
      [[ $d == bf16* ]] && v=naive,fused,multi_tensor
      step 60 "gate hashes $d old" one "gate_old_$d" "$OLD" -b cuda --params 2^24 -v "$v" -d "$d" --steps 5
      step 60 "gate hashes $d new" one "gate_new_$d" "$NEW" -b cuda --params 2^24 -v "$v" -d "$d" --steps 5 \
        --rule-mode separate
    done
    step 60 "gate hashes models old" one "gate_old_models" "$OLD" -b cuda -m resnet50,vit_l_16 -v fused,multi_tensor
    step 60 "gate hashes models new" one "gate_new_models" "$NEW" -b cuda -m resnet50,vit_l_16 -v fused,multi_tensor \
      --rule-mode separate
    for r in 1 2; do
      step 60 "speed old r$r" one "speed_old_r$r" "$OLD" -b cuda -m single_2p28,vit_l_16,resnet50 -v fused,multi_tensor
      step 60 "speed new r$r" one "speed_new_r$r" "$NEW" -b cuda -m single_2p28,vit_l_16,resnet50 -v fused,multi_tensor \
        --rule-mode separate,torch
    done
    step 60 "speed new bf16" one "speed_new_bf16" "$NEW" -b cuda --params 2^28 -v fused -d bf16,bf16_master \
      --rule-mode separate,torch
  fi

  if want xbackend; then
    # The separate arithmetic on the GPU and on the host's cores: the same bits (no contraction on either side).
    step 90 "separate arithmetic, cuda" one "xb_cuda" "$NEW" -b cuda --params 2^24 -v naive,fused,multi_tensor \
      -d fp32,fp64,bf16,bf16_master --steps 5 --rule-mode separate
    step 90 "separate arithmetic, openmp" one "xb_openmp" "$NEW" -b openmp --params 2^24 -v naive,fused,multi_tensor \
      -d fp32,fp64,bf16,bf16_master --steps 5 --rule-mode separate
    step 60 "torch arithmetic, cuda and openmp" one "xb_torch_cuda" "$NEW" -b cuda --params 2^24 -v fused \
      -d fp32,fp64 --steps 5 --rule-mode torch
    step 60 "torch arithmetic, openmp" one "xb_torch_openmp" "$NEW" -b openmp --params 2^24 -v fused \
      -d fp32,fp64 --steps 5 --rule-mode torch
  fi

  if want cudaaware_small && [[ -x "$repo/.device/ompi/bin/mpirun" ]]; then
    export OPAL_PREFIX=$repo/.device/ompi
    ompi=(env LD_LIBRARY_PATH="$OPAL_PREFIX/lib:$LD_LIBRARY_PATH" "$OPAL_PREFIX/bin/mpirun" --allow-run-as-root -np 2
      --bind-to none -x NCCL_NVLS_ENABLE -x OPAL_PREFIX -x LD_LIBRARY_PATH="$OPAL_PREFIX/lib:$LD_LIBRARY_PATH"
      -x OMP_NUM_THREADS=8)
    MC=$repo/.device/mpicuda/bin/nagbench
    step 90 "cuda-aware (blocking collectives on device pointers): every mode, tiny buckets" "${ompi[@]}" "$MC" -b cuda \
      -q -m tiny --comm mpi --mpi-path cuda-aware --sharding replicated,sharded --overlap on,off --bucket-mb 0.01 \
      --steps 3 --rule-mode separate -o "$RES/cudaaware_small_np2.json"
    step 60 "cuda-aware allreduce 1M..16M" "${ompi[@]}" "$MC" -b cuda -q --comm-only --comm mpi --mpi-path cuda-aware \
      --comm-min 1M --comm-max 16M --comm-iters 5 --comm-reps 3 -o "$RES/cudaaware_allreduce_np2.json"
    step 60 "staged allreduce 1M..16M (same MPI)" "${ompi[@]}" "$MC" -b cuda -q --comm-only --comm mpi \
      --mpi-path staged --comm-min 1M --comm-max 16M --comm-iters 5 --comm-reps 3 -o "$RES/cudaaware_stagedar_np2.json"
  fi

  if want dpgate && ((gpus >= 2)); then
    for r in 1 2; do
      step 90 "dp np2 old r$r" mpi 2 "dp_old_r$r" "$OLD" -m vit_l_16 -v multi_tensor --comm nccl \
        --sharding replicated,sharded
      step 90 "dp np2 new r$r" mpi 2 "dp_new_r$r" "$NEW" -m vit_l_16 -v multi_tensor --comm nccl \
        --sharding replicated,sharded --rule-mode separate
    done
    step 90 "dp np2 new torch" mpi 2 "dp_new_torch" "$NEW" -m vit_l_16 -v multi_tensor --comm nccl \
      --sharding replicated,sharded --rule-mode torch
  fi

  if want roof; then
    # Issue 9: the host roof of the new sizing and stability stop against the old one (old: 8x the last-level
    # cache, 20 repetitions; new: 4x, capped at 1 GiB, stops once stable), interleaved, on the GPU host's cores; the
    # new probe also at the old array size, to tell size from repetitions. Short runs: the roof is what is compared.
    # Then the OpenMP update before/after, separate and torch arithmetic (issue 15).
    for r in $(seq 1 "${ROOF_PAIRS:-5}"); do
      step 40 "roof old r$r" env OMP_PROC_BIND=spread OMP_PLACES=threads "$OLD" -b openmp --params 2^20 --steps 1 \
        --warmup 0 -q -o "$RES/roof_old_r$r.json"
      step 40 "roof new r$r" env OMP_PROC_BIND=spread OMP_PLACES=threads "$NEW" -b openmp --params 2^20 --steps 1 \
        --warmup 0 -q -o "$RES/roof_new_r$r.json"
      step 40 "roof new, old size r$r" env OMP_PROC_BIND=spread OMP_PLACES=threads "$NEW" -b openmp --params 2^20 \
        --steps 1 --warmup 0 --roof-mib 2400 -q -o "$RES/roof_newsize_r$r.json"
    done
    for r in $(seq 1 "${HOST_PAIRS:-2}"); do
      step 60 "host old r$r" env OMP_PROC_BIND=spread OMP_PLACES=threads "$OLD" -b openmp --params 2^28 -v fused -q \
        -o "$RES/host_old_r$r.json"
      step 60 "host new r$r" env OMP_PROC_BIND=spread OMP_PLACES=threads "$NEW" -b openmp --params 2^28 -v fused -q \
        --rule-mode separate,torch -o "$RES/host_new_r$r.json"
    done
  fi

  if want sweep && [[ -f "$repo/.device/sweep.sh" ]]; then
    # Issue 13: the short scaling sweep with the runner's own job script (records.jsonl, logs/), resumable.
    step 400 "sweep gpu-scaling-short" bash "$repo/.device/sweep.sh"
    mkdir -p "$RES/sweep" && cp -r "$repo/.device/sweep-out/." "$RES/sweep/" 2>/dev/null
  fi

  if want sanitizer; then
    # Issue 9: compute-sanitizer's four tools over the CUDA unit tests and a 2-rank NCCL and staged-MPI step.
    cs=$(command -v compute-sanitizer || find /usr/local/cuda*/bin -name compute-sanitizer 2>/dev/null | head -1)
    small=(--model tiny --steps 2 --warmup 0 --roof-mib 64 --roof-reps 2 --verify full)
    quick='UpdateKernels/Cuda.Fp32Nesterov:UpdateKernels/Cuda.Bf16MasterNesterov:UpdateKernels/Cuda.EmptyAndSingleTensors:TorchArithmetic/Cuda.*'
    step 150 "memcheck unit (Cuda)" "$cs" --tool memcheck --leak-check full --error-exitcode 9 \
      --log-file "$RES/cs_memcheck_unit.log" "$B/bin/nagbench_unit_tests" --gtest_filter='UpdateKernels/Cuda.*:TorchArithmetic/Cuda.*'
    for tool in racecheck synccheck initcheck; do
      step 90 "$tool unit (Cuda)" "$cs" --tool "$tool" --error-exitcode 9 --log-file "$RES/cs_${tool}_unit.log" \
        "$B/bin/nagbench_unit_tests" --gtest_filter="$quick"
    done
    for tool in memcheck racecheck synccheck initcheck; do
      comms=(nccl staged)
      [[ $tool != memcheck ]] && comms=(nccl)  # time: the staged path's kernels are the same update kernels
      for comm in "${comms[@]}"; do
        args=(--comm nccl)
        [[ $comm == staged ]] && args=(--comm mpi --mpi-path staged)
        step 75 "$tool 2-rank $comm step" mpirun --allow-run-as-root -np 2 --bind-to none -x NCCL_NVLS_ENABLE \
          -x LD_LIBRARY_PATH "$cs" --tool "$tool" --error-exitcode 9 --show-backtrace host \
          --log-file "$RES/cs_${tool}_${comm}_np2.%q{OMPI_COMM_WORLD_RANK}.log" \
          "$NEW" -b cuda -q "${small[@]}" "${args[@]}" --sharding replicated,sharded --bucket-mb 0.01
      done
    done
  fi

  if want cudaaware && [[ -x "$repo/.device/ompi/bin/mpirun" ]]; then
    # Issue 9 section 5: --mpi-path cuda-aware through an Open MPI built --with-cuda (no UCX).
    export OPAL_PREFIX=$repo/.device/ompi
    ompi=(env LD_LIBRARY_PATH="$OPAL_PREFIX/lib:$LD_LIBRARY_PATH" "$OPAL_PREFIX/bin/mpirun" --allow-run-as-root -np 2
      --bind-to none -x NCCL_NVLS_ENABLE -x OPAL_PREFIX -x LD_LIBRARY_PATH="$OPAL_PREFIX/lib:$LD_LIBRARY_PATH")
    MC=$repo/.device/mpicuda/bin/nagbench
    step 20 "ompi_info cuda" "$OPAL_PREFIX/bin/ompi_info" --parsable --all 2>/dev/null | grep -i cuda | head -5
    for path in cuda-aware staged; do
      step 120 "cuda-aware build: mpi $path, vit_l_16" "${ompi[@]}" "$MC" -b cuda -q -m vit_l_16 -v multi_tensor --rule-mode separate \
        --comm mpi --mpi-path "$path" --sharding replicated,sharded --overlap on,off --steps 5 \
        -o "$RES/cudaaware_${path}_np2.json"
    done
    step 90 "cuda-aware build: non-blocking collectives on device pointers (experiment)" \
      "${ompi[@]}" -x NAGBENCH_CUDA_AWARE_NONBLOCKING=1 "$MC" -b cuda -q -m tiny --comm mpi --mpi-path cuda-aware \
      --sharding replicated,sharded --bucket-mb 0.01 --steps 3 -o "$RES/cudaaware_nonblocking_np2.json"
    step 60 "cuda-aware build: allreduce sweep" "${ompi[@]}" "$MC" -b cuda -q --comm-only --comm mpi \
      --mpi-path cuda-aware --comm-min 1M --comm-max 256M -o "$RES/cudaaware_allreduce_np2.json"
  fi
} 2>&1 | tee "$RES/log.txt"
pack
python3 "$here/session_summary.py" "$RES" >"$OUT/summary.txt" 2>&1 || true
cat "$OUT/summary.txt"
