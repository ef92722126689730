#!/usr/bin/env bash
# gpu_bundle.sh [DIR] - build ptycho without MPI and put the program, the CUDA
# test and the shared libraries they need (not libc) into DIR (default
# gpu-bundle/, git-ignored), for a GPU machine that has CUDA but not Debian's
# HDF5/TIFF/FFTW.  cuFFT (270 MB) is left to that machine's CUDA toolkit,
# which gpu_check.sh puts on the library path; the CUDA runtime is linked
# statically.  Run there: scripts/gpu_check.sh DIR OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-gpu-bundle}
./scripts/build.sh build-gpu -DPTY_ENABLE_MPI=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
rm -rf "$dir" && mkdir -p "$dir/lib"
cp build-gpu/ptycho build-gpu/tests/test_gpu "$dir/"
for bin in "$dir/ptycho" "$dir/test_gpu"; do
  ldd "$bin" | awk '/=> \// {print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libcuda.so*|libcufft.so*) ;;
      *) cp -L "$lib" "$dir/lib/" ;;
    esac
  done
done
du -sh "$dir"
