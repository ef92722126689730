#!/usr/bin/env bash
# contention_bench.sh - does a two-thread run collapse when another process takes a core (issue 17)?
#
#   scripts/contention_bench.sh [--modes "1 5"] [--iterations N] [--ptycho PATH] [--input FILE]
#
# Times `ptycho recon` (CPU backend, batched order) on the Siemens star of ../shared/data (or a
# simulated 20 x 20 scan of 128^2 when absent) with --threads 1 and --threads 2, first on an idle
# machine, then while a busy loop holds one core.  A line per case: ms per iteration (from the
# result's /timings).  Extra environment for ptycho (e.g. OMP_WAIT_POLICY=passive) is passed
# through.  Timing only: nothing here passes or fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ptycho=$here/build/ptycho modes="1 5" iterations=20 input=""
while [ $# -gt 0 ]; do
  case $1 in
    --modes) modes=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --ptycho) ptycho=$2; shift 2 ;;
    --input) input=$2; shift 2 ;;
    *) echo "contention_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'kill $busy 2>/dev/null || true; rm -rf "$work"' EXIT
busy=""
flags=()
if [ -z "$input" ] && [ -f "$here/../shared/data/siemens-star-small.h5" ]; then
  input=$here/../shared/data/siemens-star-small.h5
  flags=(--positions-px /entry_1/sample_1/geometry_1/translation_pixels)
elif [ -z "$input" ]; then
  "$ptycho" simulate --output "$work/sim.cxi" --rows 20 --cols 20 --frame 128 --seed 1 >/dev/null
  input=$work/sim.cxi
fi
per_it() { /usr/bin/python3 -c "import h5py; print('%.1f' % (1e3 * h5py.File('$1', 'r')['/timings/seconds_per_iteration'][()]))"; }
run() { # label threads modes
  "$ptycho" recon "$input" "${flags[@]}" --output "$work/r" --iterations "$iterations" --threads "$2" --modes "$3" \
    --order batched --backend cpu --probe-start 0 --quiet --no-tiff >/dev/null
  printf "%-10s threads %d  modes %d  %8s ms/iteration\n" "$1" "$2" "$3" "$(per_it "$work/r.h5")"
}
for k in $modes; do
  run idle 1 "$k"
  run idle 2 "$k"
  ( while :; do :; done ) &
  busy=$!
  sleep 0.5
  run loaded 1 "$k"
  run loaded 2 "$k"
  kill $busy
  wait $busy 2>/dev/null || true
  busy=""
done
