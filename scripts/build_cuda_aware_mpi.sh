#!/usr/bin/env bash
# Builds a CUDA-aware Open MPI from Debian's own openmpi source package (the version Debian 12 ships, 4.1.4) into
# the cache, for the --mpi-path cuda-aware experiment (docs/data-parallel.md). Only on request: scripts/setup.sh
# runs it when NAGBENCH_CUDA_AWARE_MPI=1; nothing else needs it.
#
#   scripts/build_cuda_aware_mpi.sh      -> $NAGBENCH_CACHE/openmpi-4.1.4-cuda (prefix; relocatable with OPAL_PREFIX)
#   scripts/build.sh cuda-mpicuda        -> build/cuda-mpicuda, nagbench linked against it
#
# Self-contained (internal hwloc, libevent, PMIx; MCA components as plug-ins beside the libraries: Open MPI's CUDA
# support needs dlopen, for libcuda) so that the prefix can be
# copied to a GPU machine with another distribution. No UCX: CUDA support comes from Open MPI's smcuda BTL and
# coll/cuda component (see docs/data-parallel.md for what that covers).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
source "$here/env.sh"
log() { printf '[cuda-aware-mpi] %s\n' "$*" >&2; }
die() {
  printf '[cuda-aware-mpi] error: %s\n' "$*" >&2
  exit 1
}

prefix=$NAGBENCH_CACHE/openmpi-4.1.4-cuda
stamp_text="openmpi 4.1.4 --with-cuda=$CUDA_HOME internal hwloc/libevent/pmix"
if [[ -f "$prefix/.nagbench-stamp" && "$(cat "$prefix/.nagbench-stamp")" == "$stamp_text" ]]; then
  log "cached: $prefix"
  exit 0
fi
[[ -x "$CUDA_HOME/bin/nvcc" ]] || die "no CUDA toolkit under CUDA_HOME=$CUDA_HOME"

# Debian's source package through a private apt configuration (deb-src of the machine's own archive); the
# system's apt state is not touched.
src=$NAGBENCH_CACHE/src/openmpi
mkdir -p "$src/apt/lists/partial" "$src/apt/cache/archives/partial"
if ! compgen -G "$src/openmpi_4.1.4.orig.tar.*" >/dev/null; then
  # shellcheck disable=SC2016 # $(FIELD) is apt's template syntax
  uri=${NAGBENCH_DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(SUITE) $(IDENTIFIER)' 2>/dev/null |
    awk '$3 == "Packages" && $2 !~ /-(security|updates|backports)$/ {print $1; exit}')}
  [[ -n "$uri" ]] || die "no Debian archive in this machine's apt sources; set NAGBENCH_DEBIAN_MIRROR"
  echo "deb-src ${uri%/} bookworm main" >"$src/apt/sources.list"
  o=(-o "Dir::Etc::SourceList=$src/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$src/apt/lists" -o "Dir::Cache=$src/apt/cache" -o APT::Sandbox::User=root
    -o Debug::NoLocking=1)
  log "downloading Debian's openmpi source package from ${uri%/}"
  apt-get "${o[@]}" update -qq >&2
  (cd "$src" && apt-get "${o[@]}" source --download-only -qq openmpi=4.1.4-3 >&2) ||
    die "could not download the openmpi 4.1.4-3 source package"
fi

work=$NAGBENCH_CACHE/build/openmpi-cuda
rm -rf "$work" "$prefix"
mkdir -p "$work"
tar -xf "$src"/openmpi_4.1.4.orig.tar.* -C "$work" --strip-components=1
log "configuring (a few minutes), then building with ${NAGBENCH_JOBS:-$(nproc)} jobs (15-30 minutes on 2 cores)"
t0=$SECONDS
(cd "$work" && ./configure --prefix="$prefix" --with-cuda="$CUDA_HOME" --with-hwloc=internal \
  --with-libevent=internal --with-pmix=internal --disable-mpi-fortran --disable-oshmem \
  --disable-static --without-ucx --without-verbs --without-ofi --without-psm2 --enable-mpi1-compatibility \
  >"$work/configure.log" 2>&1) || { tail -30 "$work/configure.log" >&2; die "configure failed ($work/configure.log)"; }
(cd "$work" && make -j "${NAGBENCH_JOBS:-$(nproc)}" >"$work/make.log" 2>&1 && make install >>"$work/make.log" 2>&1) ||
  { grep -m5 -i error "$work/make.log" >&2; die "build failed ($work/make.log)"; }
rm -rf "$prefix/share/man" "$prefix/share/doc"
find "$prefix/lib" -name '*.la' -delete
strip --strip-unneeded "$prefix"/lib/*.so* "$prefix"/bin/* 2>/dev/null || true
"$prefix/bin/ompi_info" --parsable --all 2>/dev/null | grep -q 'mpi_built_with_cuda_support:value:true' ||
  die "the build does not report CUDA support"
printf '%s' "$stamp_text" >"$prefix/.nagbench-stamp"
log "built in $((SECONDS - t0)) s: $prefix ($(du -sh "$prefix" | cut -f1))"
rm -rf "$work"
