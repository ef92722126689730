# recon_smoke.sh - a short multi-mode run writes every output, the result
# file reads back (compare against itself gives NRMSE ~ 0), and the progress
# and summary lines appear.
. "$(dirname "$0")/common.sh"
"$PTYCHO" simulate --output s.cxi --rows 6 --cols 6 --step 5 --frame 32 --modes 2 --seed 3 >/dev/null || exit 1
"$PTYCHO" recon s.cxi --output r --modes 2 --iterations 12 --probe-start 2 --print-every 4 >log.txt 2>err.txt || { cat err.txt; exit 1; }
cat log.txt
for f in r.h5 r_object_phase.tif r_object_magnitude.tif r_probe_modes.tif; do
  if [ -s "$f" ]; then pass "wrote $f"; else fail "missing $f"; fi
done
if grep -q "^iter    12/12 | err" log.txt; then pass "progress line"; else fail "no progress line"; fi
if grep -q "^done: 12 iterations" log.txt; then pass "summary line"; else fail "no summary"; fi
"$PTYCHO" compare r.h5 r.h5 | tee self.txt
check "result compares to itself" "x < 1e-4" "$(value_of nrmse self.txt)"
# the batched order on two threads (sets of non-overlapping windows) runs and writes a result
"$PTYCHO" recon s.cxi --output rb --modes 2 --iterations 12 --probe-start 2 --threads 2 --order batched --quiet --no-tiff \
  && [ -s rb.h5 ] && pass "batched order on 2 threads" || fail "batched order failed"
# --output NAME.h5 names the result file itself, not a prefix of NAME.h5.h5
"$PTYCHO" recon s.cxi --output named.h5 --iterations 2 --quiet && [ -s named.h5 ] && [ -s named_object_phase.tif ] \
  && [ ! -e named.h5.h5 ] && pass "--output named.h5 writes named.h5" || fail "--output named.h5 did not write named.h5"
for f in r_object_phase.png; do
  if [ -s "$f" ]; then pass "wrote $f"; else fail "missing $f"; fi
done
ls *.tmp 2>/dev/null && fail "temporary files left" || pass "no temporary files left"
finish
