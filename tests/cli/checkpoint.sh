# checkpoint.sh - --checkpoint-every and --init-from (issue 16), a 12 x 12 scan, 150 iterations: a
# run killed with SIGKILL after its checkpoint passed iteration 50 leaves no result and a
# checkpoint (a readable result file with /checkpoint/iterations_done and the random generator's
# state); resumed with --init-from PREFIX_checkpoint.h5 and the same --iterations, it ends within
# 1 % of the final error of the same run uninterrupted (in fact with its object, bit for bit),
# with the whole error history (the checkpoint's first), and the checkpoint is removed once the
# run ends well.  Refused: a checkpoint already past the iterations asked; --init-from with other modes.
. "$(dirname "$0")/common.sh"
need_numpy
"$PY" "$(dirname "$0")/../indep/indep_sim.py" scan.cxi --rows 12 --cols 12 --frame 64 --jitter 1 --seed 3 \
  --photons 1e6 --poisson >/dev/null || fail "simulator"
common=(--backend cpu --threads 1 --seed 1 --iterations 150 --quiet --no-tiff --fft-wisdom plans.fftw)
last_error() { "$PY" -c "import h5py; print(h5py.File('$1', 'r')['/error'][-1])"; }

"$PTYCHO" recon scan.cxi --output whole "${common[@]}" || fail "uninterrupted run"
# each checkpoint is held 0.2 s after it is written (PTYCHO_STAGE_DELAY), so the poll below sees one
# past 50 iterations before the run ends, however fast its iterations are
PTYCHO_STAGE_DELAY=0.2 "$PTYCHO" recon scan.cxi --output cut "${common[@]}" --checkpoint-every 10 &
run=$!
done_at=0
for _ in $(seq 1 2000); do
  done_at=$("$PY" -c "
import h5py
try: print(int(h5py.File('cut_checkpoint.h5', 'r')['/checkpoint/iterations_done'][()]))
except Exception: print(0)" 2>/dev/null)
  [ "$done_at" -ge 50 ] && break
  kill -0 $run 2>/dev/null || break
  sleep 0.05
done
kill -9 $run 2>/dev/null
wait $run 2>/dev/null
check "killed after the checkpoint passed 50 iterations, before the end" "x >= 50 && x < 150" "$done_at"
[ ! -e cut.h5 ] && pass "no result from the killed run" || fail "the killed run left cut.h5"
kept=$("$PY" -c "import h5py; print(int(h5py.File('cut_checkpoint.h5', 'r')['/checkpoint/iterations_done'][()]))")
cp cut_checkpoint.h5 saved_checkpoint.h5
"$PTYCHO" recon scan.cxi --output cut "${common[@]}" --checkpoint-every 10 --init-from cut_checkpoint.h5 >resume.txt \
  2>resume.err || { fail "resume"; cat resume.err; }
check "resumed: final error within 1 % of the uninterrupted run's" "x <= 1.01 * y && x >= 0.99 * y" \
  "$(last_error cut.h5)" "$(last_error whole.h5)"
check "resumed: the uninterrupted run's object, bit for bit (the position order goes on from the checkpoint)" "x == 1" \
  "$("$PY" -c "
import h5py, numpy as np
print(int(np.array_equal(h5py.File('cut.h5', 'r')['/object'][()], h5py.File('whole.h5', 'r')['/object'][()])))")"
check "resumed: 150 errors, the checkpoint's first" "x == 1" "$("$PY" -c "
import h5py, numpy as np
e = h5py.File('cut.h5', 'r')['/error'][()]
print(int(len(e) == 150 and np.all(np.isfinite(e)) and e[$kept - 1] > e[-1]))")"
[ ! -e cut_checkpoint.h5 ] && pass "the checkpoint is removed when the run ends well" || fail "checkpoint left"

expect_error "a checkpoint past the iterations asked" \
  "--init-from 'saved_checkpoint.h5' is a checkpoint after $kept iterations: give --iterations above that (the total)" \
  "$PTYCHO" recon scan.cxi --output out/x --iterations 50 --init-from saved_checkpoint.h5
expect_error "--init-from with other probe modes" "--init-from 'whole.h5' holds 1 probe mode; give --modes 1" \
  "$PTYCHO" recon scan.cxi --output out/x --modes 2 --init-from whole.h5
finish
