# positions_file.sh - positions from a table beside the frames (issue 16): a header-less
# whitespace table in um (--position-columns, --position-units) gives the CXI's positions; a
# scale of -1 on x is --flip-x; a row naming no frame is named and ignored; the mistakes a table
# can hold each give one message naming the file, the line or the flag: a column that is not
# there, a word that is not a number, a repeated trigger, a unit not stated, an unknown unit,
# a row count that differs from the frames' without a trigger column; a frames pattern whose file
# is missing names the file.  Frames at NXmx's /entry/data/data are found without --frames.
. "$(dirname "$0")/common.sh"
need_numpy
"$PTYCHO" simulate --output s.cxi --rows 6 --cols 6 --step 6 --frame 32 --seed 4 >/dev/null || fail "simulate"
"$PY" - <<'PY' || fail "writing the tables"
import h5py, numpy as np
f = h5py.File('s.cxi', 'r')
t = next(f[p][()] for p in ('/entry_1/data_1/translation', '/entry_1/sample_1/geometry_1/translation') if p in f)
n = len(t)
with open('plain.txt', 'w') as o:
    o.write('# x y in micrometres, no header\n')
    for x, y in t[:, :2] * 1e6:
        o.write('%.12g\t%.12g\n' % (x, y))
rows = ['frame,x_um,y_um'] + ['%d,%.12g,%.12g' % (k, x, y) for k, (x, y) in enumerate(t[:, :2] * 1e6)]
open('extra.csv', 'w').write('\n'.join(rows + ['%d,0,0' % (n + 3)]) + '\n')
open('repeat.csv', 'w').write('\n'.join(rows[:4] + ['2,0,0'] + rows[4:]) + '\n')
open('word.csv', 'w').write('\n'.join(rows[:3] + ['2,0.1,abc'] + rows[4:]) + '\n')
open('nounit.csv', 'w').write('\n'.join(['frame,x,y'] + rows[1:]) + '\n')
open('short.txt', 'w').write('\n'.join('%.12g %.12g' % (x, y) for x, y in t[:-1, :2] * 1e6) + '\n')
PY
run=(--iterations 3 --backend cpu --threads 1 --quiet --no-tiff)
pos() { "$PY" -c "import h5py; print(repr(h5py.File('$1', 'r')['/positions_px'][()].tolist()))"; }
"$PTYCHO" recon s.cxi --output cxi "${run[@]}" || fail "recon"
"$PTYCHO" recon s.cxi --output plain --positions-file plain.txt --position-columns 1,2 --position-units um \
  "${run[@]}" || fail "recon with a header-less table"
check "a header-less table in um gives the CXI's positions" "x == 1" "$("$PY" -c "
import h5py, numpy as np
a, b = (h5py.File(f, 'r')['/positions_px'][()] for f in ('cxi.h5', 'plain.h5'))
print(int(np.allclose(a, b, atol=1e-6)))")"
"$PTYCHO" recon s.cxi --output flip --flip-x "${run[@]}" && "$PTYCHO" recon s.cxi --output scaled \
  --positions-file plain.txt --position-units um --position-scale -1,1 "${run[@]}" || fail "flip and scale"
check "--position-scale -1,1 is --flip-x" "x == 1" "$("$PY" -c "
import h5py, numpy as np
a, b = (h5py.File(f, 'r')['/positions_px'][()] for f in ('flip.h5', 'scaled.h5'))
print(int(np.allclose(a, b, atol=1e-6)))")"
"$PTYCHO" recon s.cxi --output extra --positions-file extra.csv --trigger-column frame "${run[@]}" 2>extra.err ||
  fail "a row naming no frame"
grep -qF "'extra.csv': 1 row names no frame (trigger 39; frames are triggers 0 to 35, --first-trigger 0); they are ignored" \
  extra.err && pass "a row naming no frame is named" || { fail "a row naming no frame"; cat extra.err; }

"$PY" -c "
import h5py, shutil
shutil.copy('s.cxi', 'nxmx.h5')
f = h5py.File('nxmx.h5', 'r+')
a = f['/entry_1/data_1/data'][()]
del f['/entry_1/data_1/data']
f['/entry/data/data'] = a" || fail "writing an NXmx-style file"
"$PTYCHO" recon nxmx.h5 --output nx --positions /entry_1/data_1/translation "${run[@]}" ||
  fail "frames at NXmx's /entry/data/data (no CXI frames) are found"
check "NXmx's /entry/data/data: the same positions as the CXI" "x == 1" "$("$PY" -c "
import h5py, numpy as np
a, b = (h5py.File(f, 'r')['/positions_px'][()] for f in ('cxi.h5', 'nx.h5'))
print(int(np.array_equal(a, b)))")"
expect_error "a column that is not there" "--position-columns x_um,z: 'extra.csv' has no column 'z'" \
  "$PTYCHO" recon s.cxi --output out/x --positions-file extra.csv --position-columns x_um,z
expect_error "a word that is not a number" "'word.csv' line 4, column 3: 'abc' is not a number" \
  "$PTYCHO" recon s.cxi --output out/x --positions-file word.csv --trigger-column frame
expect_error "a repeated trigger" "'repeat.csv' line 5 repeats trigger 2 of line 4" \
  "$PTYCHO" recon s.cxi --output out/x --positions-file repeat.csv --trigger-column frame
expect_error "a unit not stated" "'nounit.csv': the positions' unit is not stated (column 'x'); give it with --position-units" \
  "$PTYCHO" recon s.cxi --output out/x --positions-file nounit.csv
expect_error "an unknown unit" "--position-units: unknown unit 'inch' (nm, um, mm, m or px)" \
  "$PTYCHO" recon s.cxi --output out/x --positions-file plain.txt --position-units inch
expect_error "rows and frames differ without triggers" \
  "'short.txt' holds 35 positions but there are 36 frames; without a trigger column (--trigger-column) rows cannot be matched to frames" \
  "$PTYCHO" recon s.cxi --output out/x --positions-file short.txt --position-units um
expect_error "a missing file of a frames pattern" "cannot open 'none_000001.h5'" \
  "$PTYCHO" recon --frames-pattern none_%06d.h5 --first-file 1 --frames-per-file 6 --raster 6x6 \
  --raster-step 1e-7,1e-7 --energy 8000 --distance 1 --pixel-size 75e-6 --output out/x
finish
