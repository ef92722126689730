#!/usr/bin/env bash
# build.sh [BUILD_DIR] [cmake args...] - configure and build ptycho (Release by default).
# Finds a CUDA toolkit in /usr/local/cuda when nvcc is not on PATH; builds without it otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
cmake -S . -B "$dir" "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
grep "ptycho:" "$dir.configure.log" || true
cmake --build "$dir" -j "$(nproc)"
