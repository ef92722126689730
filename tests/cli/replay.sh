# replay.sh - `ptycho replay` (issue 14, the simulated acquisition): a finished scan written again
# frame by frame into an HDF5 SWMR file (src/io/live_write.h) that another process can follow.
#   all of it: frames and translations equal the scan's, frames_planned = frames_written = N,
#     complete = 1, and the file reconstructs as any CXI scan does;
#   --stop-after: a writer that died: frames_written and the extents stop there, complete = 0;
#   a reader in SWMR mode while the writer runs at 50 Hz (3 s: the reader starts, numpy and all,
#     well before the end): frames_written grows in steps, and every frame below it is already
#     the scan's;
#   refusals: an output that is the input, a missing input.
. "$(dirname "$0")/common.sh"
need_numpy
"$PTYCHO" simulate --output s.cxi --rows 12 --cols 12 --step 5 --frame 32 --seed 4 >/dev/null || exit 1
"$PTYCHO" replay --input s.cxi --output live.h5 --rate 5000 || fail "replay"
check "replay: frames, translations and the live counters" "x == 1" "$("$PY" -c "
import h5py, numpy as np
a, b = h5py.File('s.cxi', 'r'), h5py.File('live.h5', 'r')
ok = all(np.array_equal(a[p][()], b[p][()]) for p in ['/entry_1/data_1/data', '/entry_1/data_1/translation'])
live = [int(b['/entry_1/live/' + k][()]) for k in ['frames_planned', 'frames_written', 'complete']]
print(int(ok and live == [144, 144, 1]))")"
"$PTYCHO" recon live.h5 --output r --iterations 20 --backend cpu --quiet --no-tiff || fail "recon of the replayed file"

"$PTYCHO" replay --input s.cxi --output cut.h5 --rate 5000 --stop-after 50 --quiet || fail "replay --stop-after"
check "--stop-after 50: 50 frames written, extents 50, scan not complete" "x == 1" "$("$PY" -c "
import h5py
b = h5py.File('cut.h5', 'r')
print(int(b['/entry_1/live/frames_written'][()] == 50 and b['/entry_1/live/complete'][()] == 0 and
          b['/entry_1/data_1/data'].shape[0] == 50 and b['/entry_1/data_1/translation'].shape[0] == 50))")"

"$PTYCHO" replay --input s.cxi --output follow.h5 --rate 50 --quiet &
writer=$!
check "an SWMR reader follows the writer: counts grow in steps, frames below them are the scan's" "x == 1" "$("$PY" -c "
import h5py, numpy as np, os, time
src = h5py.File('s.cxi', 'r')['/entry_1/data_1/data'][()]
t0 = time.time()
while True:  # the writer may not have started SWMR yet
    try:
        f = h5py.File('follow.h5', 'r', libver='latest', swmr=True); break
    except (OSError, FileNotFoundError):
        if time.time() - t0 > 20: raise SystemExit('no file')
        time.sleep(0.02)
written, data, done = f['/entry_1/live/frames_written'], f['/entry_1/data_1/data'], f['/entry_1/live/complete']
seen, ok = [], True
while time.time() - t0 < 60:
    # the counter first, then the frames: what is refreshed after it is at least as new
    written.refresh(); done.refresh()
    n, finished = int(written[()]), int(done[()])
    data.refresh()
    if n and (data.shape[0] < n or not np.array_equal(data[:n], src[:n])): ok = False
    if not seen or seen[-1] != n: seen.append(n)
    if finished: break
    time.sleep(0.05)
print(int(ok and seen[-1] == 144 and len(seen) >= 4 and seen == sorted(seen)), file=open('follow.txt', 'w'))
print(seen[:8], '...', seen[-1], 'ok', ok, file=open('follow_seen.txt', 'w'))
" && cat follow.txt)"
wait $writer || fail "replay at 50 Hz"
cat follow_seen.txt

expect_error "replay onto its input" "would overwrite the input" "$PTYCHO" replay --input s.cxi --output s.cxi
expect_error "replay of a missing scan" "cannot open 'none.cxi'" "$PTYCHO" replay --input none.cxi --output out/x.h5
finish
