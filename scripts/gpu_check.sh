#!/usr/bin/env bash
# gpu_check.sh DIR OUT - on a GPU machine: the CUDA backend against the CPU
# (test_gpu), then the issue-4 benchmarks, each log under OUT.  DIR is what
# scripts/gpu_bundle.sh made.  Runs in about 6 minutes on an H100/H200.
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
# sub-pixel positions and position correction end to end (issue 13): the CUDA backend against the
# CPU on one simulated scan whose positions err by 1 px RMS; NRMSE and the moves side by side
tmp=$(mktemp -d)
"$dir/ptycho" simulate --output "$tmp/pc.cxi" --rows 16 --cols 16 --step 6 --jitter 1 --frame 64 --seed 11 \
  --position-error 1 >/dev/null 2>&1
for b in cuda cpu; do
  timeout 180 "$dir/ptycho" recon "$tmp/pc.cxi" --output "$tmp/pc_$b" --backend $b --iterations 100 \
    --position-correction 10 --no-tiff --print-every 100 >"$out/position_correction_$b.txt" 2>&1
  echo "position_correction_$b rc=$? $("$dir/ptycho" compare "$tmp/pc_$b.h5" "$tmp/pc.cxi" 2>&1 | grep nrmse)" \
    "$(grep -E '^done|position correction moved' "$out/position_correction_$b.txt" | tr -s ' ' | tr '\n' ';')" |
    tee -a "$out/summary.txt"
done
rm -rf "$tmp"
