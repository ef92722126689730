# ptychopy.sh - ptychopy's command line (issue 16): three command lines shaped as ptychopy's own
# examples (README real-data ePIE; example/testMpty.py's fly scan with a position list, written
# without "recon" and with dashless jobID= and lf=; the same with per-row files), run on an
# independent simulator's scan written as ptychopy reads data: numbered HDF5 files of -dpf frames
# on an 80x90 detector, beam at -qxy (row, col); each gives exactly (bit for bit) the object of
# the native flags it stands for, and the reconstruction is as good as the CXI's.  Refused, naming
# the flag: -algorithm=MLs, -simulate=1, -T, a flag ptychopy does not have (-iter).
. "$(dirname "$0")/common.sh"
need_numpy
"$PY" "$(dirname "$0")/../indep/indep_sim.py" scan.cxi --rows 8 --cols 10 --frame 64 --jitter 0 --seed 4 \
  --photons 1e6 --poisson >/dev/null || fail "simulator"
# the scan as ptychopy's data: per-row files (1-based), one file of all frames at /dp, a (y, x) list
read -r L Z P S <<<"$("$PY" - <<'PY'
import h5py, numpy as np, os
f = h5py.File('scan.cxi', 'r')
e = f['/entry_1/instrument_1/source_1/energy'][()]
z = f['/entry_1/instrument_1/detector_1/distance'][()]
p = f['/entry_1/instrument_1/detector_1/x_pixel_size'][()]
t = f['/entry_1/sample_1/geometry_1/translation'][()] if '/entry_1/sample_1/geometry_1/translation' in f \
    else f['/entry_1/data_1/translation'][()]
a = f['/entry_1/data_1/data'][()]
n, m, _ = a.shape
det = np.zeros((n, 80, 90), np.uint32)
det[:, 45 - m // 2:45 + m // 2, 40 - m // 2:40 + m // 2] = np.rint(a)
os.makedirs('rows', exist_ok=True)
os.makedirs('fly', exist_ok=True)
for r in range(8):
    with h5py.File('rows/scan_data_%06d.h5' % (r + 1), 'w') as g:
        g['/entry/data/data'] = det[10 * r:10 * r + 10]
with h5py.File('fly/data_roi0_dp_1.h5', 'w') as g:
    g['/dp'] = det
np.savetxt('fly_pos.csv', np.stack([t[:, 1], t[:, 0]], 1), delimiter=', ')
print(6.62607015e-34 * 299792458.0 / e, z, p, t[1, 0] - t[0, 0])
PY
)"
run=(--backend cpu --threads 1 --seed 1 --quiet --no-tiff --fft-wisdom plans.fftw)
same() { "$PY" -c "
import h5py, numpy as np
print(int(np.array_equal(h5py.File('$1', 'r')['/object'][()], h5py.File('$2', 'r')['/object'][()])))"; }
nrmse() { "$PTYCHO" compare "$1" scan.cxi 2>/dev/null | awk '$1 == "nrmse" { print $2 }'; }
geometry=(--energy "$("$PY" -c "print('%.17g' % (6.62607015e-34 * 299792458.0 / 1.602176634e-19 / $L))")" --distance "$Z"
  --pixel-size "$P")

"$PTYCHO" recon scan.cxi --output cxi --iterations 30 --modes 2 "${run[@]}" || fail "recon of the CXI"

# 1. README.md, real data: per-row files, a raster
"$PTYCHO" recon -jobID=IOTest -algorithm=ePIE -fp=rows/scan_data_#06d.h5 -fs=1 -hdf5path=/entry/data/data \
  -beamSize=100e-6 -qxy=45,40 -scanDims=8,10 -step="$S,$S" -i=30 -size=64 -lambda="$L" -dx_d="$P" -z="$Z" -dpf=10 \
  -probeModes=2 "${run[@]}" >one.txt 2>one.err || { fail "ptychopy line 1"; cat one.err; }
"$PTYCHO" recon --output native1 --frames-pattern rows/scan_data_%06d.h5 --first-file 1 --frames-per-file 10 \
  --frames /entry/data/data --raster 8x10 --raster-step "$S,$S" --crop 64 --center 45,40 "${geometry[@]}" \
  --iterations 30 --modes 2 "${run[@]}" || fail "native line 1"
check "line 1 (README, raster over per-row files) = its native flags, bit for bit" "x == 1" "$(same IOTest.h5 native1.h5)"
# (a raster is centred on zero and the CXI's positions are not, so `compare`, which overlays by
# position, cannot score line 1 against the truth; lines 2 and 3 use the CXI's positions)
grep -q "^ptychopy's command line as ptycho's: .* --raster 8x10" one.txt || fail "line 1: the translation is shown"

# 2. example/testMpty.py, a fly scan: one file of all frames at /dp, positions from lf= (y, x in m),
#    program called without "recon", dashless jobID= and lf=
"$PTYCHO" jobID=fly -fp=fly/data_roi0_dp_#d.h5 -fs=1 -beamSize=400.0e-9 -qxy=45.0,40.0 -scanDims=1,80 \
  -probeModes=2 -i=30 -rotate90=0 -sqrtData -fftShiftData -threshold=1 -size=64 -lambda="$L" -dx_d="$P" -z="$Z" \
  -dpf=80 -hdf5path=/dp -probeGuess= -updateProbe=5 -updateModes=10 lf=fly_pos.csv "${run[@]}" >two.txt 2>two.err ||
  { fail "ptychopy line 2"; cat two.err; }
"$PTYCHO" recon --output native2 --frames-pattern fly/data_roi0_dp_%d.h5 --first-file 1 --frames-per-file 80 \
  --frames /dp --positions-file fly_pos.csv --position-columns 2,1 --position-units m --frame-count 80 --crop 64 \
  --center 45,40 "${geometry[@]}" --iterations 30 --modes 2 --probe-start 5 --saturation 4294967294 "${run[@]}" ||
  fail "native line 2"
check "line 2 (fly scan, lf= list, one file) = its native flags, bit for bit" "x == 1" "$(same fly.h5 native2.h5)"
check "line 2: NRMSE within 5 % of the CXI's" "x <= 1.05 * y" "$(nrmse fly.h5)" "$(nrmse cxi.h5)"

# 3. example/testMpty.py's second form: per-row files (-dpf a row) with the position list
"$PTYCHO" recon -jobID=rowlist -fp=rows/scan_data_#06d.h5 -fs=1 -beamSize=400.0e-9 -qxy=45,40 -scanDims=8,10 \
  -probeModes=2 -i=30 -sqrtData -fftShiftData -size=64 -lambda="$L" -dx_d="$P" -z="$Z" -dpf=10 \
  -hdf5path=/entry/data/data -lf=fly_pos.csv "${run[@]}" 2>three.err || { fail "ptychopy line 3"; cat three.err; }
"$PTYCHO" recon --output native3 --frames-pattern rows/scan_data_%06d.h5 --first-file 1 --frames-per-file 10 \
  --frames /entry/data/data --positions-file fly_pos.csv --position-columns 2,1 --position-units m --frame-count 80 \
  --crop 64 --center 45,40 "${geometry[@]}" --iterations 30 --modes 2 "${run[@]}" || fail "native line 3"
check "line 3 (per-row files with a position list) = its native flags, bit for bit" "x == 1" "$(same rowlist.h5 native3.h5)"
check "line 3: NRMSE within 5 % of the CXI's" "x <= 1.05 * y" "$(nrmse rowlist.h5)" "$(nrmse cxi.h5)"

expect_error "an algorithm ptycho does not run" "ptychopy flag -algorithm=MLs: ptycho reconstructs with ePIE only" \
  "$PTYCHO" -jobID=out/x -algorithm=MLs -fp=rows/scan_data_#06d.h5 -fs=1 -scanDims=8,10 -step="$S,$S" -dpf=10
expect_error "a simulation" "ptychopy flag -simulate=1 is not supported: use 'ptycho simulate' to make a scan" \
  "$PTYCHO" -jobID=out/x -beamSize=110e-9 -scanDims=30,30 -step=50e-9,50e-9 -i=3 -size=512 -simulate=1
expect_error "a time limit" "ptychopy flag -T=600 is not supported" \
  "$PTYCHO" recon -jobID=out/x -fp=rows/scan_data_#06d.h5 -T=600
# ptychopy's off values are accepted: -T=-1 (no limit), -simulate=0, -drift=0,0
"$PTYCHO" recon -jobID=offs -fp=rows/scan_data_#06d.h5 -fs=1 -dpf=10 -scanDims=8,10 -step="$S,$S" -qxy=45,40 \
  -size=64 -lambda="$L" -dx_d="$P" -z="$Z" -i=2 -T=-1 -simulate=0 -drift=0,0 -jitterRadius=0 "${run[@]}" 2>offs.err &&
  pass "ptychopy's off values (-T=-1, -simulate=0, -drift=0,0, -jitterRadius=0) are accepted" ||
  { fail "ptychopy's off values"; cat offs.err; }
expect_error "a flag ptychopy does not have" "'-iter=100' is not a ptychopy flag" \
  "$PTYCHO" recon -jobID=out/x -fp=rows/scan_data_#06d.h5 -iter=100
finish
