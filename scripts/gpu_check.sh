#!/usr/bin/env bash
# gpu_check.sh DIR OUT - on a GPU machine: the CUDA backend against the CPU
# (test_gpu), then the issue-4 benchmarks, each log under OUT.  DIR is what
# scripts/gpu_bundle.sh made.  Runs in about 5 minutes on an H100/H200.
set -uo pipefail
dir=$1 out=$2
mkdir -p "$out"
cuda=${CUDA_HOME:-/usr/local/cuda}
export LD_LIBRARY_PATH="$dir/lib:$cuda/lib64:$cuda/lib:$cuda/targets/x86_64-linux/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ldd "$dir/ptycho" | grep -q "not found" && { ldd "$dir/ptycho" | grep "not found" | tee "$out/missing.txt"; }
nvidia-smi >"$out/nvidia-smi.txt" 2>&1
PTY_EXPECT_GPU=1 "$dir/test_gpu" >"$out/test_gpu.txt" 2>&1; echo "test_gpu rc=$?" | tee -a "$out/summary.txt"
run() { # name, bench flags...
  local name=$1; shift
  timeout 240 "$dir/ptycho" bench --backend cuda "$@" >"$out/$name.txt" 2>&1
  echo "$name rc=$? $(grep -E 'median|frame-updates|floor' "$out/$name.txt" | tr -s ' ' | tr '\n' ';')" | tee -a "$out/summary.txt"
}
run seed_1mode --order batched --iterations 10
run seed_5modes --order batched --modes 5 --iterations 5
run seed_streamed --order batched --gpu-frames streamed --iterations 5
run seed_1mode_json --order batched --iterations 10 --json
