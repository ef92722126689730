#!/usr/bin/env bash
# flyscan_study.sh [OUT_DIR] - the seed poster's fly-scan study: how a
# reconstruction's quality depends on the number of probe modes K when the
# sample moves during each exposure.
#
# 1. Simulated fly scans (ptycho simulate --fly-steps), the sample moving
#    MOTION steps per exposure (default 0.8), Poisson counts, reconstructed
#    with K = 1, 5, 10, 15 modes: NRMSE against the ground truth, final
#    Fourier error, the half-bit FRC period of the two interleaved halves,
#    time; the phase images side by side in one PNG (montage_phase.py).
# 2. The shared Siemens-star fly scan (../shared/data, skipped when absent):
#    final Fourier error and the half-bit FRC period per K (no truth).
# Writes OUT_DIR/table.md and OUT_DIR/*_phase_by_modes.png.
#
# Environment: PTYCHO (default build/ptycho), MODES (default "1 5 10 15"),
# ITERATIONS (200), MOTION (0.8), PHOTONS (1e6), STAR_ITERATIONS (100),
# STAR (1; 0 skips part 2, which takes the longest: 128 x 128 frames),
# SIM (1; 0 skips part 1).
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
out=$(realpath -m "${1:-flyscan-output}")
ptycho=$(realpath "${PTYCHO:-build/ptycho}")
modes=${MODES:-1 5 10 15} iters=${ITERATIONS:-200} motion=${MOTION:-0.8} photons=${PHOTONS:-1e6}
star_iters=${STAR_ITERATIONS:-100} star_on=${STAR:-1} sim_on=${SIM:-1}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
[ -x "$ptycho" ] || { echo "flyscan_study: no ptycho at $ptycho (build first: scripts/build.sh)" >&2; exit 1; }
mkdir -p "$out"
cd "$out"

step=6 sub=8
length=$(awk -v m="$motion" -v s="$step" 'BEGIN { print m * s }')

num() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
final_error() { awk '/^done:/ { print $NF }' "$1"; }
seconds() { awk '/^done:/ { for (i = 1; i < NF; i++) if ($(i + 1) == "s") { print $i; exit } }' "$1"; }

# R NAME INPUT K [recon flags]: reconstruct, then its two halves and their FRC
run() {
  local name=$1 input=$2 k=$3
  shift 3
  "$ptycho" recon "$input" --output "$name" --modes "$k" --no-tiff --print-every 100000 "$@" >"$name.log" 2>&1
  for h in even odd; do
    "$ptycho" recon "$input" --half-set $h --output "${name}_$h" --modes "$k" --no-tiff --quiet "$@" >/dev/null 2>&1
  done
  "$ptycho" frc "${name}_even.h5" "${name}_odd.h5" --output "${name}_frc" >"${name}_frc.txt"
}

echo "# Fly-scan study: quality against the number of probe modes" >table.md
if [ "$sim_on" = 1 ]; then
  "$ptycho" simulate --output fly.cxi --rows 16 --cols 16 --step $step --jitter 1 --jitter-whole-pixels --frame 64 \
    --fly-steps $sub --fly-length "$length" --noise poisson --photons "$photons" --seed 5 >/dev/null
  {
    echo
    echo "Simulated: 16 x 16 raster, step $step px, 64 x 64 frames, sample moving $motion steps ($length px, $sub"
    echo "sub-positions) per exposure, Poisson $photons photons a frame, $iters iterations, CPU."
    echo
    echo "| modes K | NRMSE | final Fourier error | FRC half-bit period (px), halves | time (s) |"
    echo "| --- | --- | --- | --- | --- |"
  } >>table.md
  results=()
  for k in $modes; do
    run sim_k$k fly.cxi "$k" --iterations "$iters"
    "$ptycho" compare sim_k$k.h5 fly.cxi >sim_k${k}_cmp.txt
    echo "| $k | $(num nrmse sim_k${k}_cmp.txt) | $(final_error sim_k$k.log) | $(num half_bit_px sim_k${k}_frc.txt) | $(seconds sim_k$k.log) |" >>table.md
    results+=(sim_k$k.h5)
  done
  "$py" "$here/scripts/montage_phase.py" sim_phase_by_modes.png "${results[@]}"
  echo >>table.md
  echo "Phase, K = ${modes// /, } left to right: sim_phase_by_modes.png" >>table.md
fi

star=$here/../shared/data/siemens-star-small.h5
if [ "$star_on" = 1 ] && [ -s "$star" ]; then
  flags=(--frames /entry_1/data_1/data --positions-px /entry_1/sample_1/geometry_1/translation_pixels
         --probe /entry_1/instrument_1/probe_guess --iterations "$star_iters")
  {
    echo
    echo "Shared Siemens-star fly scan ($star_iters iterations, no ground truth):"
    echo
    echo "| modes K | final Fourier error | FRC half-bit period (px), halves | time (s) |"
    echo "| --- | --- | --- | --- |"
  } >>table.md
  results=()
  for k in $modes; do
    run star_k$k "$star" "$k" "${flags[@]}"
    echo "| $k | $(final_error star_k$k.log) | $(num half_bit_px star_k${k}_frc.txt) | $(seconds star_k$k.log) |" >>table.md
    results+=(star_k$k.h5)
  done
  "$py" "$here/scripts/montage_phase.py" star_phase_by_modes.png "${results[@]}"
  echo >>table.md
  echo "Phase, K = ${modes// /, } left to right: star_phase_by_modes.png" >>table.md
else
  echo "flyscan_study: Siemens-star part skipped (STAR=$star_on, $star $([ -s "$star" ] && echo present || echo absent))" >&2
fi
cat table.md
