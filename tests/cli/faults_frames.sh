# faults_frames.sh - damaged scans (issue 15, classes 3 and 4), on the independent simulator's 16x16
# scan of 64^2 frames (Poisson 1e6):
#   frames never written (chunks left at the fill value: the last 40, as an acquisition cut short,
#     and 10 in the middle, as a damaged chunk index HDF5 does not report): one warning names them,
#     they are left out, and over the frames that were measured the result is as good (NRMSE within
#     10 %) as a reconstruction of a file holding only those;
#   one absurd pixel (a single 1e30 count): one warning names it (frame, pixel, count), it is
#     masked, and the result is the clean scan's (NRMSE within 5 %).
. "$(dirname "$0")/common.sh"
need_numpy
INDEP="$(dirname "$0")/../indep/indep_sim.py"
"$PY" "$INDEP" clean.cxi --rows 16 --cols 16 --frame 64 --jitter 1 --seed 7 --photons 1e6 --poisson >/dev/null ||
  fail "simulator"
"$PY" - <<'PY' || fail "making the damaged files"
import h5py, shutil
FR, TR = '/entry_1/data_1/data', '/entry_1/data_1/translation'
def target(f, path):
    link = f.get(path, getlink=True)
    return link.path if isinstance(link, h5py.SoftLink) else path
frames = h5py.File('clean.cxi', 'r')[FR][()]
n = frames.shape[0]
missing = set(range(100, 110)) | set(range(n - 40, n))
# never written: a chunk a frame, the missing frames' chunks never allocated
shutil.copy('clean.cxi', 'cut.cxi')
f = h5py.File('cut.cxi', 'r+')
t = target(f, FR)
del f[t]
d = f.create_dataset(t, shape=frames.shape, dtype=frames.dtype, chunks=(1,) + frames.shape[1:], fillvalue=0)
for j in range(n):
    if j not in missing:
        d[j] = frames[j]
f.close()
# only the measured frames, for the reference
keep = [j for j in range(n) if j not in missing]
shutil.copy('clean.cxi', 'measured.cxi')
f = h5py.File('measured.cxi', 'r+')
for p in (FR, TR):
    t = target(f, p)
    a = f[t][()][keep]
    del f[t]
    f[t] = a
f.close()
open('keep.txt', 'w').write(' '.join(map(str, keep)))
# one absurd pixel
shutil.copy('clean.cxi', 'outlier.cxi')
f = h5py.File('outlier.cxi', 'r+')
fr = f[FR][50]
fr[5, 7] = 1e30
f[FR][50] = fr
f.close()
PY
nrmse() { "$PTYCHO" compare "$1" clean.cxi 2>/dev/null | awk '$1 == "nrmse" { print $2 }'; }
for s in clean cut measured outlier; do
  "$PTYCHO" recon "$s.cxi" --output "r_$s" --iterations 60 --backend cpu --threads 1 --seed 1 --quiet --no-tiff \
    2>"$s.err" || { fail "recon of $s.cxi"; cat "$s.err"; }
done

grep -qF "'cut.cxi': 50 of 256 frames of '/entry_1/data_1/data' hold no counts at any usable pixel (never written, or unreadable without an error: an acquisition cut short or a damaged file): frames 100, 101, 102, 103, 104, 105, 106, 107, ...; they are left out" cut.err &&
  pass "frames never written: $(grep warning cut.err | head -1)" || { fail "frames never written: warning"; cat cut.err; }
# score over the frames that were measured: the result's region restricted to their positions
"$PY" -c "
import h5py
keep = [int(x) for x in open('keep.txt').read().split()]
f = h5py.File('r_cut.h5', 'r+')
p = f['/positions_px'][()]
del f['/positions_px']
f['/positions_px'] = p[keep]"
check "frames never written: left out, as good as a file of the measured frames alone" "x <= 1.10 * y" \
  "$(nrmse r_cut.h5)" "$(nrmse r_measured.h5)"

grep -qF "'outlier.cxi': 1 pixel of '/entry_1/data_1/data' above" outlier.err &&
  grep -qF "the largest, 1e+30 counts, in frame 50 at pixel (5, 7)" outlier.err &&
  pass "one absurd pixel: $(grep warning outlier.err | head -1)" || { fail "one absurd pixel: warning"; cat outlier.err; }
check "one absurd pixel: masked, the result is the clean scan's" "x <= 1.05 * y" "$(nrmse r_outlier.h5)" "$(nrmse r_clean.h5)"
grep -q "warning" clean.err && { fail "the clean scan warns"; cat clean.err; } || pass "the clean scan reads without a warning"
finish
