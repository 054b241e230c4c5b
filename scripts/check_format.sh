#!/usr/bin/env bash
# Fails when a C++ source does not follow .clang-format (clang-format 14, Debian 12).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find src tests benchmarks -name '*.[ch]pp')
clang-format --dry-run --Werror "${files[@]}"
echo "[format] ${#files[@]} files follow .clang-format"
