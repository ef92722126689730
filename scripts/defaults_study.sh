#!/usr/bin/env bash
# defaults_study.sh [OUT] [OLD_PTYCHO] - the evidence behind the first-probe
# and centring defaults (issue 11): each case reconstructed with each
# setting, NRMSE against its truth and wall seconds, as OUT/table.md.
#   cases: ptycho simulate's j15 scan (continuous jitter), a beam filling
#   3/4 of the window, --phase-max 2, --probe gaussian; the independent
#   simulator's beam filling 90 % of the window with no probe and with a
#   rough guess in the file (needs python3 with numpy and h5py).
#   settings: the defaults; --order sequential; --probe-search off (the
#   former start); --probe-model aperture with the simulator's optics;
#   --no-probe-centering; and OLD_PTYCHO's defaults (e.g. a build of
#   cf53065, before this issue) when given.
# 2 CPU threads, 100 iterations, seed 3 for the position order.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-defaults-study}
old=${2:-}
P=${PTYCHO:-$here/build/ptycho}
PY=/usr/bin/python3
mkdir -p "$out"
cd "$out"
sim() { "$P" simulate --rows 20 --cols 20 --frame 64 "$@" >/dev/null; }
sim --output j15.cxi --jitter 1.5
sim --output d48.cxi --seed 3 --probe-diameter 48 --step 8 --jitter 1 --jitter-whole-pixels
sim --output pm2.cxi --rows 16 --cols 16 --phase-max 2
sim --output gauss.cxi --rows 16 --cols 16 --probe gaussian
cases="j15 d48 pm2 gauss"
# ptycho simulate's aperture as a lens: pupil radius M/4 = 16 px at z = 2 m,
# p = 75 um gives A/f = 1.2e-3; its curvature pi D/(2 M a) is a defocus of
# -c lambda z^2 / (pi p^2) (negative: the focus lies behind the sample)
lens() { "$PY" -c "import math; D=$1; c=math.pi*D/(2*64*16); lam=6.62607015e-34*299792458/(8000*1.602176634e-19); print('--probe-model aperture --probe-aperture 1.2e-4 --probe-focal-length 0.1 --probe-defocus %.6g' % (-c*lam*4/(math.pi*75e-6**2)))"; }
declare -A model=([j15]="$(lens 24)" [d48]="$(lens 48)" [pm2]="$(lens 24)" [gauss]="")
if "$PY" -c "import numpy, h5py" 2>/dev/null; then
  "$PY" "$here/tests/indep/indep_sim.py" ind.cxi --fill 0.9 --whole-pixel --jitter 1.5 >/dev/null
  "$PY" "$here/tests/indep/indep_sim.py" indg.cxi --fill 0.9 --whole-pixel --jitter 1.5 --probe-guess rough >/dev/null
  attrs=$("$PY" -c "import h5py; a = h5py.File('ind.cxi')['/entry_1/ground_truth'].attrs; print(a['aperture_diameter_m'], a['focal_length_m'], a['defocus_m'])")
  read -r ap fl dz <<<"$attrs"
  model[ind]="--probe-model aperture --probe-aperture $ap --probe-focal-length $fl --probe-defocus $dz"
  model[indg]=""
  cases="$cases ind indg"
fi
run() { # run NAME PROGRAM ARGS... -> "nrmse seconds"
  local name=$1 prog=$2
  shift 2
  local t0 t1
  t0=$(date +%s.%N)
  if "$prog" recon --backend cpu --threads 2 --no-tiff --quiet --seed 3 --output "$name" "$@" >"$name.log" 2>&1; then
    t1=$(date +%s.%N)
    printf "%.4f (%.1f s)" "$("$P" compare "$name.h5" "${name%%__*}.cxi" | awk '$1 == "nrmse" { print $2 }')" \
      "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  else
    printf "failed"
  fi
}
{
  echo "| case | defaults (search, batched) | --order sequential | --probe-search off | --probe-model aperture | --no-probe-centering | before (${old:+old build}) |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for c in $cases; do
    row="| $c | $(run "${c}__def" "$P" --input $c.cxi)"
    row="$row | $(run "${c}__seq" "$P" --input $c.cxi --order sequential)"
    row="$row | $(run "${c}__data" "$P" --input $c.cxi --probe-search off)"
    if [ -n "${model[$c]}" ]; then row="$row | $(run "${c}__model" "$P" --input $c.cxi ${model[$c]})"; else row="$row | —"; fi
    row="$row | $(run "${c}__nocen" "$P" --input $c.cxi --no-probe-centering)"
    if [ -n "$old" ]; then row="$row | $(run "${c}__old" "$old" --input $c.cxi) |"; else row="$row | — |"; fi
    echo "$row"
  done
} | tee table.md
