#!/usr/bin/env bash
# live_bench.sh - how fast `ptycho recon --follow` keeps up with an acquisition (issue 14).
#
#   scripts/live_bench.sh [--frame M] [--rows R] [--rates "200 500 1000"] [--threads T]
#                         [--updates N] [--ptycho PATH] [--keep DIR]
#
# For each rate: a scan of R x R frames of M^2 (the independent simulator, tests/indep/) is
# replayed into an SWMR file at that rate while the follower runs on it, started first (the file
# does not exist yet) with --final-iterations 0.  A line per rate:
#   preview_s  from the first frame written (replay start + 1/rate) to the first preview
#   done_s     from the last frame written (replay's exit) to the follower's exit (result written)
#   passes     passes the median frame took part in when the scan completed
#   keeps_up   yes when that median is >= N (default 10): every frame of the scan's first half had
#              N updates by its end
# Timing only: nothing here passes or fails.
set -euo pipefail
frame=64 rows=20 rates="100 200 500 1000 2000" threads=2 updates=10 keep=""
here=$(cd "$(dirname "$0")/.." && pwd)
ptycho=$here/build/ptycho
while [ $# -gt 0 ]; do
  case $1 in
    --frame) frame=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --updates) updates=$2; shift 2 ;;
    --ptycho) ptycho=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "live_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
now() { date +%s.%N; }
"$py" "$here/tests/indep/indep_sim.py" scan.cxi --rows "$rows" --cols "$rows" --frame "$frame" --jitter 1 --seed 3 \
  --photons 1e6 --poisson >/dev/null
echo "# live_bench: $((rows * rows)) frames of ${frame}^2, $threads threads, keeping up = median frame >= $updates passes"
printf "%8s %10s %8s %8s %8s %9s %s\n" rate_hz scan_s preview_s done_s passes fu_per_s keeps_up
for rate in $rates; do
  rm -rf live.h5 out*
  "$ptycho" recon --follow live.h5 --output out --final-iterations 0 --threads "$threads" --follow-timeout 30 \
    --preview-every 1 --no-tiff >follow.txt 2>follow.err &
  follower=$!
  sleep 0.5
  w0=$(now)
  "$ptycho" replay --input scan.cxi --output live.h5 --rate "$rate" --quiet
  w1=$(now)
  wait $follower
  f1=$(now)
  "$py" - "$rate" "$w0" "$w1" "$f1" "$updates" <<'PY'
import json, re, sys
rate, w0, w1, f1, need = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
out = open('follow.txt').read()
start = json.load(open('out_live/status.json'))['started_unix']
preview = float(re.search(r'first preview ([0-9.]+) s', out).group(1))
median = float(re.search(r'least [0-9]+, median ([0-9.]+)', out).group(1))
fu = [float(x) for x in re.findall(r'\|\s+([0-9]+) frame-updates/s', out)]
print('%8g %10.2f %8.2f %8.2f %8.0f %9.0f %s' % (rate, w1 - w0, start + preview - (w0 + 1 / rate), f1 - w1, median,
      max(fu) if fu else 0, 'yes' if median >= need else 'no'))
PY
done
[ -n "$keep" ] || rm -rf "$work"
