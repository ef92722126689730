#!/usr/bin/env bash
# numpy_speed.sh - ptycho against a plain numpy ePIE on the same scan, in the same run (issue 17).
#
#   scripts/numpy_speed.sh [--rows R] [--cols C] [--frame M] [--iterations N] [--numpy-iterations N]
#                          [--threads T] [--ptycho PATH]
#
# Writes a scan with the independent simulator (tests/indep/indep_sim.py: 20 x 20 positions of 64^2
# by default, 400 frames, a defocused beam, whole-pixel positions), then times
#   - `ptycho recon` (CPU backend, T threads, default 2): the result's /timings/seconds_per_iteration;
#   - tests/indep/indep_epie.py: numpy, complex128, one position at a time, FFTs by numpy.fft,
#     started from the true probe (it needs no probe search): its ePIE loop's seconds per iteration.
# Prints both, their ratio, and each one's NRMSE against the truth (scored by indep_epie.py), so the
# two are seen to do the same job.  Timing only: nothing here passes or fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ptycho=$here/build/ptycho rows=20 cols=20 frame=64 iterations=50 np_iterations=5 threads=2
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --cols) cols=$2; shift 2 ;;
    --frame) frame=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --numpy-iterations) np_iterations=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --ptycho) ptycho=$2; shift 2 ;;
    *) echo "numpy_speed.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$py "$here/tests/indep/indep_sim.py" "$work/scan.cxi" --rows "$rows" --cols "$cols" --frame "$frame" --whole-pixel \
  --seed 1 >/dev/null
"$ptycho" recon "$work/scan.cxi" --output "$work/r" --iterations "$iterations" --threads "$threads" --backend cpu \
  --quiet --no-tiff >/dev/null
ours=$($py -c "import h5py; print(h5py.File('$work/r.h5', 'r')['/timings/seconds_per_iteration'][()])")
ours_err=$($py "$here/tests/indep/indep_epie.py" "$work/scan.cxi" --score "$work/r.h5" --ramp | awk '{print $2}')
out=$($py "$here/tests/indep/indep_epie.py" "$work/scan.cxi" --iterations "$np_iterations" --probe-start 0 --time --ramp)
theirs=$(echo "$out" | awk '/seconds per iteration/ {print $4}')
theirs_err=$(echo "$out" | awk '/^nrmse/ {print $2}')
$py - "$ours" "$theirs" "$ours_err" "$theirs_err" "$rows" "$cols" "$frame" "$threads" "$iterations" "$np_iterations" <<'EOF'
import sys
ours, theirs, oe, te = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
r, c, m, t, n, nn = sys.argv[5:11]
print(f"scan: {r} x {c} positions of {m}^2 (independent simulator)")
print(f"ptycho recon, {t} threads, {n} iterations:   {1e3 * ours:9.2f} ms/iteration   NRMSE {oe}")
print(f"numpy ePIE, complex128, {nn} iterations:      {1e3 * theirs:9.2f} ms/iteration   NRMSE {te} (true probe start)")
print(f"ptycho is {theirs / ours:.1f}x faster per iteration")
EOF
