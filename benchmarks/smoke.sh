#!/bin/sh
# smoke.sh BENCH OUT.json: runs the small sizes of every benchmark, then fails on any error in the JSON output
# (Google Benchmark exits 0 even when a benchmark called SkipWithError).
set -e
bench=$1
out=$2
here=$(dirname "$0")
rm -f "$out"
"$bench" '--benchmark_filter=/2\^1[02]/|roof/' --benchmark_min_time=0.01 --benchmark_out="$out" \
  --benchmark_out_format=json --nagbench_max_log2=12 --nagbench_host_max_log2=12
for py in /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null 2>&1; then exec "$py" "$here/check_results.py" "$out" --expect 10; fi
done
echo "smoke.sh: no python3" >&2
exit 1
