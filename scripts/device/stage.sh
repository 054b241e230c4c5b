#!/usr/bin/env bash
# Puts what a GPU-machine session runs into .device/ (ignored by git; name it in the device tool's `carry`), slim:
# the binaries without symbol tables and gzip-compressed (the device tool carries 64 MiB with the working tree;
# scripts/device/common.sh unpacks them there), the build folder's lib/ and share/ (with inputs/problems), no
# object files.
#   scripts/device/stage.sh new build/cuda          # this commit's CUDA build        -> .device/new
#   scripts/device/stage.sh old /path/to/build/cuda # a baseline build (nagbench only) -> .device/old
#   scripts/device/stage.sh ompi                    # the CUDA-aware Open MPI prefix  -> .device/ompi
#   scripts/device/stage.sh mpicuda build/cuda-mpicuda                                -> .device/mpicuda
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/env.sh
source "$repo/scripts/env.sh"
what=${1:?new|old|ompi|mpicuda}
dst=$repo/.device/$what
rm -rf "$dst"
mkdir -p "$dst/bin"
case "$what" in
  new)
    src=${2:?build folder}
    cp "$src"/bin/nagbench "$src"/bin/nagbench_unit_tests "$dst/bin/"
    cp -r "$src/lib" "$src/share" "$dst/" 2>/dev/null || true
    ;;
  old | mpicuda)
    src=${2:?build folder}
    cp "$src/bin/nagbench" "$dst/bin/"
    cp -r "$src/share" "$dst/" 2>/dev/null || true
    ;;
  ompi)
    rm -rf "$dst"
    cp -a "$NAGBENCH_CACHE/openmpi-4.1.4-cuda" "$dst"
    rm -rf "$dst/include" "$dst/share/doc" "$dst/share/man"
    ;;
  *) echo "stage.sh: unknown '$what'" >&2; exit 2 ;;
esac
find "$dst" -type f \( -perm -u+x -o -name '*.so*' \) -exec strip --strip-unneeded {} + 2>/dev/null || true
if [[ $what == new || $what == old || $what == mpicuda ]]; then
  mkdir -p "$dst/share/nagbench"
  cp -r "$repo/inputs/problems" "$dst/share/nagbench/"
  gzip -9 "$dst"/bin/*
  # The training workloads' data files (python3-sklearn's, which GPU images without scikit-learn lack):
  # scripts/device/common.sh points NAGBENCH_DATA_DIR here when the machine has none of its own.
  sk=/usr/lib/python3/dist-packages/sklearn/datasets/data
  if [[ -f $sk/digits.csv.gz ]]; then
    mkdir -p "$dst/share/nagbench/sklearn-data"
    cp "$sk/digits.csv.gz" "$sk/breast_cancer.csv" "$dst/share/nagbench/sklearn-data/"
  fi
fi
du -sh "$dst"
