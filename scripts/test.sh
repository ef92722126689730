#!/usr/bin/env bash
# test.sh - install dependencies, build, and run the whole test suite:
# a Release build runs every test; an AddressSanitizer/UBSan build runs all
# but the long reconstructions (label "slow") and the multi-rank runs (label "mpi").  GPU tests skip without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --tests
jobs=$(nproc)
./scripts/build.sh build
(cd build && ctest --output-on-failure -j "$jobs" --timeout 1200)
./scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DPTY_SANITIZE=ON -DPTY_ENABLE_CUDA=OFF
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$jobs" -LE "slow|mpi" --timeout 1200)
echo "test: all passed"
