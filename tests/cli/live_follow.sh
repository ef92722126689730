# live_follow.sh - `ptycho recon --follow` (issue 14): reconstruct a scan while it is written.
#   a 20x20 scan of 64^2 frames (the independent simulator: defocused lens, Poisson 1e6, jitter),
#   replayed at 200 Hz into an HDF5 SWMR file that appears only after the follower has started:
#   the follower waits for it, reconstructs while frames arrive, finishes with 60 iterations over
#   the whole scan, and ends within 10 % of the NRMSE of an offline run of 60 iterations; its
#   previews (status.json, images, page) are there, and headless Chromium, where installed, shows
#   the page with the last preview's images loaded;
#   the same without the planned positions in the file: the object grid grows as they arrive;
#   a writer killed mid-scan: after --follow-timeout the follower says so, writes the result of
#   the frames that came (as many positions as the file's frames_written) and exits with 3;
#   frames never written (no counts; no position) and a repeated frame are skipped and counted;
#   refusals: a file that never appears, position correction, a result that would replace the scan.
. "$(dirname "$0")/common.sh"
need_numpy
INDEP="$(dirname "$0")/../indep/indep_sim.py"
"$PY" "$INDEP" scan.cxi --rows 20 --cols 20 --frame 64 --jitter 1 --seed 3 --photons 1e6 --poisson >/dev/null ||
  fail "simulator"
common=(--backend cpu --threads 1 --seed 1)
nrmse() { "$PTYCHO" compare "$1" scan.cxi 2>/dev/null | awk '$1 == "nrmse" { print $2 }'; }

"$PTYCHO" recon scan.cxi --output off --iterations 60 "${common[@]}" --quiet --no-tiff || fail "offline recon"
off=$(nrmse off.h5)

# the follower first: the file does not exist yet
"$PTYCHO" recon --follow scan_live.h5 --output live --final-iterations 60 --follow-timeout 20 --preview-every 0.5 \
  "${common[@]}" >follow.txt 2>follow.err &
follower=$!
sleep 1
"$PTYCHO" replay --input scan.cxi --output scan_live.h5 --rate 200 --quiet || fail "replay"
wait $follower
rc=$?
sed 's/^/    /' follow.txt
check "follow of a late file: exit status" "x == 0" "$rc"
grep -q "scan complete" follow.txt || fail "follow: the scan was not seen complete"
live=$(nrmse live.h5)
check "follow: final NRMSE within 10 % of offline with the same iterations over the full scan" "x <= 1.10 * y" \
  "$live" "$off"
check "follow: the previews' status says done, 400 frames used" "x == 1" "$("$PY" -c "
import json, os
s = json.load(open('live_live/status.json'))
files = ['index.html', 'status.js', 'object_phase.png', 'object_phase.tif', 'object_magnitude.png',
         'object_magnitude.tif', 'probe_modes.png', 'error.svg']
print(int(s['state'] == 'done' and s['frames_used'] == 400 and s['preview'] >= 2 and
          all(os.path.getsize('live_live/' + f) > 0 for f in files)))")"

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -n "$browser" ]; then
  # the page loads status.js and the images of the preview it names: their widths land in the DOM
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --virtual-time-budget=4000 --dump-dom \
    "file://$PWD/live_live/index.html" >dom.html 2>browser.err
  browser_rc=$?
fi
if [ -n "$browser" ] && [ $browser_rc -ne 0 ] && [ ! -s dom.html ]; then
  echo "SKIPPED  the page in headless Chromium: $browser does not run here (exit $browser_rc):"
  tail -3 browser.err | sed 's/^/    /'
elif [ -n "$browser" ]; then
  check "Chromium shows the last preview's phase image (its width in the DOM = the object's)" "x == 1" "$("$PY" -c "
import json, re
s = json.load(open('live_live/status.json'))
dom = open('dom.html').read()
w = {a: b for a, b in re.findall(r'id=\"(\w+)\"[^>]*data-width=\"(\d+)\"', dom)}
w.update({a: b for b, a in re.findall(r'data-width=\"(\d+)\"[^>]*id=\"(\w+)\"', dom)})
import h5py
width = h5py.File('live.h5', 'r')['/object'].shape[1]
ok = ('data-preview=\"%d\"' % s['preview']) in dom and ('object_phase.png?v=%d' % s['preview']) in dom
print(int(ok and int(w.get('phase', 0)) == width))")"
else
  echo "SKIPPED  the page in headless Chromium: no chromium here (apt-get install chromium)"
fi

# a writer that does not state the planned positions: the grid grows as positions arrive
"$PTYCHO" replay --input scan.cxi --output grow_live.h5 --rate 400 --hide-plan --quiet &
writer=$!
"$PTYCHO" recon --follow grow_live.h5 --output grow --final-iterations 60 --follow-timeout 20 --no-preview \
  "${common[@]}" >grow.txt 2>grow.err || { fail "follow without a plan"; sed 's/^/    /' grow.err; }
wait $writer
check "follow without a plan: the grid grew at least once" "x >= 1" "$(sed -n 's/.*grid grown \([0-9]*\) times.*/\1/p' grow.txt)"
check "follow without a plan: final NRMSE within 10 % of offline" "x <= 1.10 * y" "$(nrmse grow.h5)" "$off"

# a writer killed mid-scan
"$PTYCHO" replay --input scan.cxi --output cut_live.h5 --rate 100 --quiet &
writer=$!
"$PTYCHO" recon --follow cut_live.h5 --output cut --final-iterations 10 --follow-timeout 2 --no-preview "${common[@]}" \
  >cut.txt 2>cut.err &
follower=$!
sleep 1.5
kill -9 $writer
wait $follower
rc=$?
check "follow of a killed writer: exit status 3 (result of what came)" "x == 3" "$rc"
grep -q "no new frame for 2 s" cut.err && grep -q "result written to cut.h5" cut.err ||
  { fail "follow of a killed writer: message"; sed 's/^/    /' cut.err; }
check "follow of a killed writer: a finite object from as many positions as the file's frames_written (< 400)" \
  "x == 1" "$("$PY" -c "
import h5py, numpy as np
r = h5py.File('cut.h5', 'r')
n = r['/positions_px'].shape[0]
written = int(h5py.File('cut_live.h5', 'r', libver='latest', swmr=True)['/entry_1/live/frames_written'][()])
print(int(0 < n == written < 400 and np.isfinite(r['/object'][()]).all()))")"

# frames never written and a repeated one, in a finished file
"$PY" -c "
import h5py, numpy as np, shutil
shutil.copy('scan.cxi', 'gaps.cxi')
f = h5py.File('gaps.cxi', 'r+')
d, t = f['/entry_1/data_1/data'], f['/entry_1/data_1/translation']
d[10] = 0
d[21] = d[20]
t[30] = np.nan
"
"$PTYCHO" recon --follow gaps.cxi --output gaps --final-iterations 5 --follow-timeout 5 --no-preview "${common[@]}" \
  >gaps.txt 2>gaps.err || { fail "follow of a file with gaps"; sed 's/^/    /' gaps.err; }
if grep -q "skipped 2 frames never written (no counts or no position) and 1 repeating" gaps.err &&
  grep -q "397 used of 400 read (2 never written, 1 repeated)" gaps.txt; then
  pass "follow of a file with gaps: 2 never written and 1 repeated skipped, 397 used"
else
  fail "follow of a file with gaps: counts"; sed 's/^/    /' gaps.txt gaps.err
fi

expect_error "follow of a file that never appears" "'none.h5' did not appear within 1 s (--follow-timeout)" \
  "$PTYCHO" recon --follow none.h5 --output out/x --follow-timeout 1
expect_error "follow with position correction" "position correction cannot yet follow a scan" \
  "$PTYCHO" recon --follow gaps.cxi --output out/x --position-correction 5 --follow-timeout 1
expect_error "follow onto the scan it follows" "would write the result over the scan being followed" \
  "$PTYCHO" recon --follow out/x.h5 --output out/x --follow-timeout 1
finish
