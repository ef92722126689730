#!/usr/bin/env bash
# floor_table.sh - the CPU iteration against its FFT floor (issue 17): `ptycho bench` at each frame
# size and mode count, the iteration and FFTW's floor measured in the same process, as a table.
#
#   scripts/floor_table.sh [--frames "64 128 256"] [--modes "1 5"] [--threads T] [--repeats N]
#                          [--ptycho PATH]...
#
# Each case is `ptycho bench --rows 20 --cols 20 --frame M --modes K --backend cpu --threads T
# --iterations I --json`, with I chosen so that a case runs a few seconds.  Every --ptycho (default
# build/ptycho; give several to compare builds) runs each case in turn, case by case, N times
# (default 1; every other round in reverse order), so that the builds see the same state of a
# machine whose speed drifts.  One markdown row per case and build: seconds per iteration
# (median), the floor, their ratio, the sets; with several builds, also each one's time and ratio
# over the first's, the median of the rounds' ratios.
# Timing only: nothing here passes or fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
frames="64 128 256" modes="1 5" threads=2 repeats=1 ptychos=()
while [ $# -gt 0 ]; do
  case $1 in
    --frames) frames=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --ptycho) ptychos+=("$(realpath "$2")"); shift 2 ;;
    *) echo "floor_table.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#ptychos[@]} -gt 0 ] || ptychos=("$here/build/ptycho")
py=/usr/bin/python3
echo "| build | M | K | s/iteration | FFT floor | ratio | sets |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for m in $frames; do
  for k in $modes; do
    # about 4e8 pixel-modes a case: 244 iterations at 64^2 with one mode, 3 at 256^2 with five
    its=$(( 400000000 / (400 * m * m * k) ))
    [ "$its" -ge 3 ] || its=3
    pairs=$(mktemp)
    trap 'rm -f "$pairs"' EXIT
    for r in $(seq "$repeats"); do
      # every other round in reverse, so that no build always runs first in its round
      idx=("${!ptychos[@]}")
      [ $((r % 2)) = 1 ] || idx=($(printf '%s\n' "${idx[@]}" | tac))
      for b in "${idx[@]}"; do
        p=${ptychos[$b]}
        json=$("$p" bench --rows 20 --cols 20 --frame "$m" --modes "$k" --backend cpu --threads "$threads" \
          --iterations "$its" --json 2>/dev/null)
        echo "$json" | $py -c "
import json, sys
d = json.load(sys.stdin)
print('| %s | %d | %d | %.4f | %.4f | %.2f | %d |' % (sys.argv[1], d['frame'], d['modes'], d['median_s_per_iteration'],
      d['fft_floor_s_per_iteration'], d['ratio_to_fft_floor'], d['sets']))
with open(sys.argv[2], 'a') as f:
    f.write('%s %d %r %r\\n' % (sys.argv[4], int(sys.argv[3]), d['median_s_per_iteration'], d['ratio_to_fft_floor']))" \
          "$p" "$pairs" "$r" "$b"
      done
    done
    # several builds: each one against the first, run by run (the runs of a round are neighbours in
    # time, so the VM's drift mostly cancels), as the median of the per-round ratios
    if [ ${#ptychos[@]} -gt 1 ]; then
      $py -c "
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    build, r, t, ratio = line.split()
    runs.setdefault(int(build), {})[r] = (float(t), float(ratio))
first = runs.get(0, {})
for b in sorted(runs)[1:]:
    rs = [r for r in runs[b] if r in first]
    if not rs:
        continue
    t = statistics.median(runs[b][r][0] / first[r][0] for r in rs)
    q = statistics.median(runs[b][r][1] / first[r][1] for r in rs)
    print('| %s / first | %s | %s | %.3f (paired, %d rounds) | | %.3f | |' % (sys.argv[3 + b], sys.argv[2], sys.argv[3],
          t, len(rs), q))" "$pairs" "$m" "$k" "${ptychos[@]}"
    fi
    rm -f "$pairs"
  done
done
