# recon_reproducible.sh - runs that share an FFT wisdom file give the same
# bits: the first run times its FFT plans and saves them, the next ones read
# them back.  2 threads in batched order (a race between the workers would
# show here) and 2 probe modes (orthogonalisation included); and the same
# lanes run on one worker, and sequential order's threads.  Without the
# file, timed plans may differ between runs, which cannot be asserted
# either way, so it is not.
. "$(dirname "$0")/common.sh"
"$PTYCHO" simulate --output s.cxi --rows 10 --cols 10 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 --modes 2 \
  --seed 7 >/dev/null || exit 1
for run in 1 2 3; do
  "$PTYCHO" recon s.cxi --output r$run --modes 2 --iterations 25 --probe-start 2 --threads 2 --order batched \
    --backend cpu --fft-wisdom plans.fftw --quiet >/dev/null || { fail "run $run failed"; finish; }
  [ $run -eq 1 ] && { grep -q "^(fftw-3" plans.fftw && pass "run 1 saved its plans" || fail "no wisdom saved"; }
done
for run in 2 3; do
  for f in object_phase.tif object_magnitude.tif probe_modes.tif; do
    if cmp -s r1_$f r${run}_$f; then pass "r1_$f and r${run}_$f are identical"; else fail "r1_$f and r${run}_$f differ"; fi
  done
done
# the lanes of a set give the same bits whoever runs them: the backend runs them on fewer workers
# when another process holds a core (choose_workers), here forced to one
PTYCHO_CPU_WORKERS=1 "$PTYCHO" recon s.cxi --output one --modes 2 --iterations 25 --probe-start 2 --threads 2 \
  --order batched --backend cpu --fft-wisdom plans.fftw --quiet >/dev/null || fail "run on one worker failed"
for f in object_phase.tif object_magnitude.tif probe_modes.tif; do
  if cmp -s r1_$f one_$f; then pass "$f: 2 threads' lanes on one worker give the same bits"; else fail "$f differs on one worker"; fi
done
# and off the grid, where the probe lives in its spectrum (spectral_pass) and the lanes' steps
# join it as spectra at each set's end.  A step of 16 px, so that a set holds several windows and
# both lanes take steps (at 6 px every set is one window, shared by the workers: cpu_split); the
# lanes' spectra added in the opposite order on one worker failed the three checks
"$PTYCHO" simulate --output sub.cxi --rows 10 --cols 10 --step 16 --jitter 1 --frame 64 --modes 2 --seed 7 >/dev/null ||
  fail "sub-pixel simulation failed"
for w in 2 1; do
  PTYCHO_CPU_WORKERS=$w "$PTYCHO" recon sub.cxi --output sub$w --modes 2 --iterations 12 --probe-start 2 --threads 2 \
    --order batched --backend cpu --fft-wisdom plans.fftw --quiet >/dev/null || fail "sub-pixel run on $w workers failed"
done
for f in object_phase.tif object_magnitude.tif probe_modes.tif; do
  if cmp -s sub2_$f sub1_$f; then pass "$f: sub-pixel positions, 2 threads' lanes on one worker give the same bits"
  else fail "$f: sub-pixel positions, differs on one worker"; fi
done
# sequential order on 2 threads (4 modes of 64^2: enough work a position for threads): FFTW's
# threaded plans and the pixel loops row by row; under load a pass runs on fewer threads
# (choose_workers), here forced to one, with the same bits, position correction's sums included
for w in 2 1; do
  PTYCHO_CPU_WORKERS=$w "$PTYCHO" recon s.cxi --output seq$w --modes 4 --iterations 8 --probe-start 2 --threads 2 \
    --order sequential --position-correction 3 --backend cpu --fft-wisdom plans.fftw --quiet >/dev/null ||
    fail "sequential run on $w threads failed"
done
for f in object_phase.tif object_magnitude.tif probe_modes.tif; do
  if cmp -s seq2_$f seq1_$f; then pass "$f: sequential order on 2 threads and on 1 of them give the same bits"
  else fail "$f: sequential order differs on 1 of 2 threads"; fi
done
# the first-probe search (no probe in the file) tries its candidates on plans of one thread each,
# at once: the same probe, and the same error, on any number of threads
for t in 1 2 3; do
  "$PTYCHO" recon s.cxi --output guess$t --iterations 1 --threads $t --backend cpu --fft-wisdom plans.fftw --no-tiff \
    2>&1 | sed -n 's/^ *first probe: \(.*\), [0-9.]* s$/\1/p' > guess$t.txt
done
if [ -s guess1.txt ] && cmp -s guess1.txt guess2.txt && cmp -s guess1.txt guess3.txt; then
  pass "the probe search finds the same probe on 1, 2 and 3 threads: $(cat guess1.txt)"
else fail "the probe search differs with the threads: $(cat guess1.txt guess2.txt guess3.txt)"; fi
ls plans.fftw.tmp* 2>/dev/null && fail "temporary wisdom left" || pass "no temporary wisdom left"
finish
