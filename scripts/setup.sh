#!/usr/bin/env bash
# Installs everything nagbench needs on Debian 12 and builds Kokkos into a cache.
#
#   scripts/setup.sh            # Debian packages + Kokkos/Kokkos Kernels 3.4.01 (OpenMP; CUDA too if nvcc exists)
#
# Environment (all optional):
#   NAGBENCH_CACHE      where sources and Kokkos installs live   (default: ${XDG_CACHE_HOME:-~/.cache}/nagbench)
#   NAGBENCH_JOBS       parallel build jobs                       (default: nproc)
#   NAGBENCH_CUDA       auto | on | off: also build the CUDA+OpenMP Kokkos (default: auto = when nvcc is found)
#   NAGBENCH_SKIP_APT   1 = do not touch Debian packages (you installed them yourself)
#   NAGBENCH_DEBIAN_MIRROR  Debian mirror for the trilinos source package (default: the mirror this machine's apt
#                       sources use, with apt's HTTP proxy if one is configured)
#   NAGBENCH_COMPAT     auto | off: fetch Kokkos 5.2.2 and 4.5.1 headers (Debian unstable) for the compile checks
#   CUDA_HOME           CUDA toolkit root (default: /usr/local/cuda)
#   NAGBENCH_CUDA_AWARE_MPI  1 = also build a CUDA-aware Open MPI from Debian's source (scripts/build_cuda_aware_mpi.sh)
#
# Every step is idempotent: a second run finds the stamps and rebuilds nothing. A stamp holds a hash of
# the patches and build options, so changing either rebuilds just that install.
# Users with their own Kokkos (>= 3.4, 4.x, 5.x) skip this script: see README "Build against your own Kokkos".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
source "$here/env.sh"

log() { printf '[setup] %s\n' "$*" >&2; }
die() {
  printf '[setup] error: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------------------------
debian_packages=(
  build-essential cmake ninja-build git curl ca-certificates patch pkg-config
  libopenmpi-dev openmpi-bin
  libbenchmark-dev libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libopenblas-dev zlib1g-dev
  python3-yaml python3-matplotlib python3-pytest python3-jsonschema python3-jinja2 python3-pandas python3-scipy
  python3-sklearn shellcheck
  clang-format
)

install_debian_packages() {
  [[ "${NAGBENCH_SKIP_APT:-0}" == 1 ]] && return 0
  local missing=()
  for p in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]} (or set NAGBENCH_SKIP_APT=1)"
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# ---------------------------------------------------------------------------------------------------------------
# 2. Kokkos 3.4.01 sources from Debian's trilinos 13.2.0 source package
# ---------------------------------------------------------------------------------------------------------------
trilinos_tarball=trilinos_13.2.0.orig.tar.gz
trilinos_sha256=0ddb47784ba7b8a6b9a07a4822b33be508feb4ccd54301b2a5d10c9e54524b90
trilinos_topdir=Trilinos-trilinos-release-13-2-0

# The Debian archive this machine's apt uses (a site's local mirror or proxy included), so no host is written
# here: the first "Packages" index that is not a security, updates or backports suite.
apt_archive_uri() {
  local uri
  # shellcheck disable=SC2016 # $(FIELD) is apt's template syntax, not the shell's
  uri=$(apt-get indextargets --format '$(REPO_URI) $(SUITE) $(IDENTIFIER)' 2>/dev/null |
    awk '$3 == "Packages" && $2 !~ /-(security|updates|backports)$/ && $1 ~ /debian/ {print $1; exit}')
  # shellcheck disable=SC2016
  [[ -n "$uri" ]] || uri=$(apt-get indextargets --format '$(REPO_URI) $(IDENTIFIER)' 2>/dev/null |
    awk '$2 == "Packages" {print $1; exit}')
  [[ -n "$uri" ]] || die "no Debian archive in this machine's apt sources; set NAGBENCH_DEBIAN_MIRROR"
  echo "${uri%/}"
}
mirror=${NAGBENCH_DEBIAN_MIRROR:-}
resolve_mirror() {
  [[ -n "$mirror" ]] || mirror=$(apt_archive_uri)
  # apt's proxy, for curl too, unless the environment already names one.
  local proxy
  proxy=$(apt-config shell p Acquire::http::Proxy 2>/dev/null | sed -n "s/^p='\(.*\)'$/\1/p")
  if [[ -n "$proxy" && "$proxy" != DIRECT && -z "${http_proxy:-}" ]]; then export http_proxy=$proxy; fi
}

fetch_trilinos() {
  local dst="$NAGBENCH_CACHE/src/$trilinos_tarball"
  if [[ -f "$dst" ]] && echo "$trilinos_sha256  $dst" | sha256sum -c --status; then
    return 0
  fi
  mkdir -p "$NAGBENCH_CACHE/src"
  log "downloading $trilinos_tarball (166 MB) from $mirror"
  curl -fsSL --retry 3 -o "$dst.part" "$mirror/pool/main/t/trilinos/$trilinos_tarball"
  echo "$trilinos_sha256  $dst.part" | sha256sum -c --status || die "checksum mismatch for $trilinos_tarball"
  mv "$dst.part" "$dst"
}

# Extracts packages/kokkos and packages/kokkos-kernels once and applies our patches to a copy whose name carries
# the patch hash, so the pristine tree is never edited in place.
patched_sources() {
  local patch_hash
  patch_hash=$(cat "$here"/kokkos-patches/*.patch | sha256sum | cut -c1-12)
  local dir="$NAGBENCH_CACHE/src/kokkos-3.4.01-$patch_hash"
  if [[ -f "$dir/.patched" ]]; then
    echo "$dir"
    return 0
  fi
  fetch_trilinos
  log "extracting Kokkos and Kokkos Kernels 3.4.01 and applying $(ls "$here"/kokkos-patches/*.patch | wc -l) patches"
  rm -rf "$dir" "$dir.tmp"
  mkdir -p "$dir.tmp"
  tar -xzf "$NAGBENCH_CACHE/src/$trilinos_tarball" -C "$dir.tmp" --strip-components=2 \
    "$trilinos_topdir/packages/kokkos" "$trilinos_topdir/packages/kokkos-kernels"
  for p in "$here"/kokkos-patches/*.patch; do
    (cd "$dir.tmp/kokkos" && patch -p1 -s --forward <"$p") || die "patch $(basename "$p") did not apply"
  done
  touch "$dir.tmp/.patched"
  mv "$dir.tmp" "$dir"
  echo "$dir"
}

# ---------------------------------------------------------------------------------------------------------------
# 3. Builds
# ---------------------------------------------------------------------------------------------------------------
jobs=${NAGBENCH_JOBS:-$(nproc)}

# build_one <install prefix> <src> <kokkos cmake args...>
build_kokkos_and_kernels() {
  local prefix=$1 src=$2
  shift 2
  local stamp_text
  stamp_text=$(printf '%s\n' "$src" "$@" "kernels: $(kernels_args "$prefix" | tr '\n' ' ')")
  if [[ -f "$prefix/.nagbench-stamp" ]] && [[ "$(cat "$prefix/.nagbench-stamp")" == "$stamp_text" ]]; then
    log "cached: $prefix"
    return 0
  fi
  local bdir="$NAGBENCH_CACHE/build/$(basename "$prefix")"
  rm -rf "$bdir" "$prefix"
  mkdir -p "$bdir"
  log "building Kokkos 3.4.01 -> $prefix (a few minutes)"
  local t0=$SECONDS
  cmake -S "$src/kokkos" -B "$bdir/kokkos" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_CXX_STANDARD=17 -DCMAKE_CXX_EXTENSIONS=OFF \
    -DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_OPENMP=ON -DKokkos_ENABLE_TESTS=OFF -DKokkos_ENABLE_EXAMPLES=OFF \
    -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON "$@" >"$bdir/kokkos.log" 2>&1 ||
    { tail -40 "$bdir/kokkos.log" >&2; die "Kokkos configure failed (log: $bdir/kokkos.log)"; }
  cmake --build "$bdir/kokkos" -j "$jobs" >>"$bdir/kokkos.log" 2>&1 ||
    { tail -40 "$bdir/kokkos.log" >&2; die "Kokkos build failed (log: $bdir/kokkos.log)"; }
  cmake --install "$bdir/kokkos" >>"$bdir/kokkos.log" 2>&1
  log "Kokkos built in $((SECONDS - t0)) s; building Kokkos Kernels 3.4.01 (BLAS, no ETI)"
  t0=$SECONDS
  local kk_args
  mapfile -t kk_args < <(kernels_args "$prefix")
  cmake -S "$src/kokkos-kernels" -B "$bdir/kernels" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DKokkos_ROOT="$prefix" "${kk_args[@]}" >"$bdir/kernels.log" 2>&1 ||
    { tail -40 "$bdir/kernels.log" >&2; die "Kokkos Kernels configure failed (log: $bdir/kernels.log)"; }
  cmake --build "$bdir/kernels" -j "$jobs" >>"$bdir/kernels.log" 2>&1 ||
    { tail -40 "$bdir/kernels.log" >&2; die "Kokkos Kernels build failed (log: $bdir/kernels.log)"; }
  cmake --install "$bdir/kernels" >>"$bdir/kernels.log" 2>&1
  log "Kokkos Kernels built in $((SECONDS - t0)) s"
  printf '%s' "$stamp_text" >"$prefix/.nagbench-stamp"
  rm -rf "$bdir"
}

kernels_args() {
  local prefix=$1
  printf '%s\n' -DKokkosKernels_ADD_DEFAULT_ETI=OFF -DKokkosKernels_ENABLE_TESTS=OFF \
    -DKokkosKernels_ENABLE_EXAMPLES=OFF -DKokkosKernels_ENABLE_TPL_CUSPARSE=OFF
  if [[ "$prefix" == *cuda* ]]; then
    printf '%s\n' -DKokkosKernels_ENABLE_TPL_CUBLAS=ON "-DCMAKE_CXX_COMPILER=$prefix/bin/nvcc_wrapper" \
      "-DCUBLAS_ROOT=$CUDA_HOME"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# 4. Headers of newer Kokkos releases, for the compile-compatibility tests (scripts/check_kokkos_compat.sh):
#    Debian unstable's libkokkos-dev 5.2.2 and Trilinos 16.1's Kokkos 4.5.1 + Kokkos Kernels. Downloaded with a
#    private apt configuration; the system's sources and package state are not touched.
# ---------------------------------------------------------------------------------------------------------------
fetch_compat_headers() {
  [[ "${NAGBENCH_COMPAT:-auto}" == off ]] && return 0
  local dir="$NAGBENCH_CACHE/compat"
  [[ -f "$dir/.done" ]] && return 0
  log "fetching Kokkos 5.2.2 and Trilinos 16.1 (Kokkos 4.5.1) headers from Debian unstable for compile checks"
  local apt="$dir/apt"
  rm -rf "$dir" && mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/debs"
  echo "deb $mirror sid main" >"$apt/sources.list"
  local o=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root
    -o Debug::NoLocking=1)
  if ! apt-get "${o[@]}" update -qq >&2 ||
    ! (cd "$dir/debs" && apt-get "${o[@]}" download -qq libkokkos-dev libtrilinos-kokkos-dev \
      libtrilinos-kokkos-kernels-dev >&2); then
    log "warning: could not fetch the compat headers; the Kokkos 4/5 compile checks will be skipped"
    rm -rf "$dir"
    return 0
  fi
  mkdir -p "$dir/kokkos-5.2.2" "$dir/trilinos-16.1"
  dpkg-deb -x "$dir"/debs/libkokkos-dev_*.deb "$dir/kokkos-5.2.2"
  for d in "$dir"/debs/libtrilinos-kokkos*.deb; do dpkg-deb -x "$d" "$dir/trilinos-16.1"; done
  rm -rf "$apt" "$dir/debs"
  touch "$dir/.done"
}

want_cuda() {
  case "${NAGBENCH_CUDA:-auto}" in
    on) [[ -x "$CUDA_HOME/bin/nvcc" ]] || die "NAGBENCH_CUDA=on but no nvcc under CUDA_HOME=$CUDA_HOME"; return 0 ;;
    off) return 1 ;;
    auto) [[ -x "$CUDA_HOME/bin/nvcc" ]] ;;
    *) die "NAGBENCH_CUDA must be auto, on or off (got '${NAGBENCH_CUDA}')" ;;
  esac
}

main() {
  install_debian_packages
  resolve_mirror
  fetch_compat_headers
  local src
  src=$(patched_sources)
  build_kokkos_and_kernels "$NAGBENCH_KOKKOS_OPENMP" "$src"
  if want_cuda; then
    # nvcc_wrapper picks its host compiler from NVCC_WRAPPER_DEFAULT_COMPILER; the path to nvcc from PATH.
    PATH="$CUDA_HOME/bin:$PATH" build_kokkos_and_kernels "$NAGBENCH_KOKKOS_CUDA" "$src" \
      -DKokkos_ENABLE_CUDA=ON -DKokkos_ENABLE_CUDA_LAMBDA=ON -DKokkos_ARCH_HOPPER90=ON \
      -DCMAKE_CXX_COMPILER="$src/kokkos/bin/nvcc_wrapper" -DCMAKE_CUDA_COMPILER="$CUDA_HOME/bin/nvcc"
  else
    log "CUDA Kokkos build skipped (NAGBENCH_CUDA=${NAGBENCH_CUDA:-auto}, CUDA_HOME=$CUDA_HOME)"
  fi
  if [[ "${NAGBENCH_CUDA_AWARE_MPI:-0}" == 1 ]]; then
    NAGBENCH_DEBIAN_MIRROR=$mirror "$here/build_cuda_aware_mpi.sh"
  fi
}

main "$@"
