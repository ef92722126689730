#!/usr/bin/env bash
# mpi_scaling.sh [OUT_DIR] - the seed paper's experiment in small: one
# simulated scan reconstructed on P = 1, 2, 4, 8, 16 ranks (CPU backend, one
# thread a rank, oversubscribed on a small machine), asynchronous and
# synchronous.  Writes OUT_DIR/table.md (NRMSE against the ground truth,
# run time, per-rank compute and communication, positions per rank) and the
# phase images (TIFF and PNG) of the worst asynchronous and the worst
# synchronous result.
#
# Environment: PTYCHO (default build/ptycho), MPIRUN (default mpirun),
# ROWS/COLS/FRAME/STEP/ITERATIONS/PHOTONS/MODES (default 32/32/64/6/100/1e6/1),
# RANKS (default "1 2 4 8 16").
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-scaling-output}")
ptycho=$(realpath "${PTYCHO:-build/ptycho}")
mpirun=${MPIRUN:-mpirun}
rows=${ROWS:-32} cols=${COLS:-32} frame=${FRAME:-64} step=${STEP:-6}
iters=${ITERATIONS:-100} photons=${PHOTONS:-1e6} modes=${MODES:-1} ranks=${RANKS:-1 2 4 8 16}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
[ -x "$ptycho" ] || { echo "mpi_scaling: no ptycho at $ptycho (build first: scripts/build.sh)" >&2; exit 1; }
mkdir -p "$out"
cd "$out"

"$ptycho" simulate --output scan.cxi --rows "$rows" --cols "$cols" --step "$step" --frame "$frame" --jitter 1 \
  --jitter-whole-pixels --modes "$modes" --noise poisson --photons "$photons" --seed 21 >/dev/null

# field VALUE-AFTER-KEY FILE
num() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$2"; }

{
  echo "# ptycho multi-rank scaling, $(date -u +%Y-%m-%d)"
  echo
  echo "Scan ${rows}x${cols} positions, ${frame}² frames, step ${step} px, ${modes} mode(s), Poisson ${photons} counts a frame,"
  echo "${iters} iterations, CPU backend, 1 thread a rank, on $(nproc --all) cores ($(uname -m)); ranks beyond the cores are oversubscribed,"
  echo "so run times above P = $(nproc --all) measure the machine, not the method."
  echo
  echo "| P | mode | partition | NRMSE | vs P=1 | seam / away NRMSE | wall s | compute s (max) | comm s (max) | positions/rank (max) | positions x scan |"
  echo "|---|------|-----------|-------|--------|-------------------|--------|-----------------|--------------|----------------------|------------------|"
} >table.md

ref=""
worst_async="" worst_sync="" worst_async_n=0 worst_sync_n=0
for np in $ranks; do
  for mode in async sync; do
    [ "$np" = 1 ] && [ "$mode" = sync ] && continue
    name="p${np}_$mode"
    t0=$(date +%s.%N)
    if [ "$np" = 1 ]; then
      "$ptycho" recon --input scan.cxi --output "$name" --modes "$modes" --iterations "$iters" --backend cpu \
        --threads 1 --print-every 100000 >"$name.log" 2>&1
    else
      "$mpirun" --oversubscribe -np "$np" "$ptycho" recon --input scan.cxi --output "$name" --modes "$modes" \
        --iterations "$iters" --backend cpu --threads 1 --mpi-mode "$mode" --print-every 100000 >"$name.log" 2>&1
    fi
    t1=$(date +%s.%N)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    band=()
    [ "$np" -gt 1 ] && band=(--seam-band 8)
    "$ptycho" compare "$name.h5" scan.cxi "${band[@]}" >"$name.cmp"
    n=$(num nrmse "$name.cmp")
    [ -z "$ref" ] && ref=$n
    seam=$(num nrmse_seam "$name.cmp"); away=$(num nrmse_away "$name.cmp")
    part=$(awk '/partition/ { gsub(",", "", $2); print $2; exit }' "$name.log"); part=${part:-1x1}
    cmax=$(awk '/ranks: compute/ { print $3; exit }' "$name.log")
    xmax=$(awk '/ranks: compute/ { print $9; exit }' "$name.log")
    pmax=$(awk '/positions per rank/ { print $7; exit }' "$name.log")
    pscan=$(awk '/positions per rank/ { print $11; exit }' "$name.log")
    if [ "$np" = 1 ]; then
      cmax=$(awk '/^done:/ { print $5; exit }' "$name.log"); xmax=0; pmax=$((rows * cols)); pscan=1.00
    fi
    ratio=$(awk -v a="$n" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')
    label=$mode
    [ "$np" = 1 ] && label="one rank"
    sa="–"
    [ -n "$seam" ] && sa=$(printf '%.4g / %.4g' "$seam" "$away")
    printf '| %s | %s | %s | %.4g | %s | %s | %s | %s | %s | %s | %s |\n' "$np" "$label" "$part" "$n" "$ratio" \
      "$sa" "$wall" "${cmax:-?}" "${xmax:-?}" "${pmax:-?}" "${pscan:-?}" >>table.md
    if [ "$mode" = async ] && awk -v a="$n" -v b="$worst_async_n" 'BEGIN { exit !(a > b) }'; then
      worst_async=$name worst_async_n=$n
    fi
    if [ "$mode" = sync ] && awk -v a="$n" -v b="$worst_sync_n" 'BEGIN { exit !(a > b) }'; then
      worst_sync=$name worst_sync_n=$n
    fi
    echo "P=$np $mode: NRMSE $n ($ratio x P=1), $wall s" >&2
  done
done

{
  echo
  for w in "$worst_async" "$worst_sync"; do
    [ -n "$w" ] || continue
    cp "${w}_object_phase.tif" "worst_${w#*_}_phase.tif"
    cp "${w}_object_phase.png" "worst_${w#*_}_phase.png"
    echo "Worst ${w#*_}: $w (NRMSE $(num nrmse "$w.cmp")): worst_${w#*_}_phase.tif / .png"
  done
} >>table.md
cat table.md
