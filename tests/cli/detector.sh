# detector.sh - detector preparation (issue 16): a scan of the independent simulator placed on a
# 80x90 uint16 detector, beam at (45, 40), with a 7-count background, a dark series of it, two
# saturated counts (65535) and a dead column; the prepared frames reconstruct the scan as its CXI:
#   --crop 64 --center 45,40 --dark /dark: NRMSE within 2 % of the CXI's; the saturated pixels are
#     masked (the uint16 overflow mark) and counted; without --dark the background makes it worse;
#   --center fit finds the beam (recorded), and reconstructs as the given centre does;
#   --mask-file (a TIFF marking the dead column) is recorded with its pixel count;
#   --bin 2: 32x32 frames of twice the detector pixel: the same object pixel, half the window;
#   refused, with messages: non-square frames without --crop, a window off the detector, a dark of
#   the wrong shape, --center that is not ROW,COL.
. "$(dirname "$0")/common.sh"
need_numpy
INDEP="$(dirname "$0")/../indep"
"$PY" "$INDEP/indep_sim.py" scan.cxi --rows 10 --cols 10 --frame 64 --jitter 1 --seed 5 --photons 1e6 --poisson \
  >/dev/null || fail "simulator"
"$PY" - <<'PY' || fail "writing the detector file"
import h5py, numpy as np, shutil, struct
shutil.copy('scan.cxi', 'det.cxi')
f = h5py.File('det.cxi', 'r+')
link = f.get('/entry_1/data_1/data', getlink=True)
path = link.path if isinstance(link, h5py.SoftLink) else '/entry_1/data_1/data'
a = np.rint(f[path][()])
n, m, _ = a.shape
det = np.zeros((n, 80, 90))
det[:, 45 - m // 2:45 + m // 2, 40 - m // 2:40 + m // 2] = a
det += 7
det[3, 45, 40] = 65535
det[9, 44, 41] = 65535
det[:, :, 20] = 0  # a dead column (outside the beam)
del f[path]
f.create_dataset(path, data=np.minimum(det, 65535).astype(np.uint16), chunks=(1, 80, 90))
f['/dark'] = np.full((4, 80, 90), 7.0)
f['/dark_wrong'] = np.full((80, 80), 7.0)
f.close()
# an 8-bit TIFF mask marking the dead column, written by hand (baseline TIFF, one strip)
mask = np.zeros((80, 90), np.uint8)
mask[:, 20] = 1
h, w = mask.shape
tags = [(256, 3, w), (257, 3, h), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8 + 2 + 9 * 12 + 4), (277, 3, 1),
        (278, 3, h), (279, 4, h * w)]
ifd = struct.pack('<H', len(tags)) + b''.join(
    struct.pack('<HHI', t, k, 1) + (struct.pack('<HH', v, 0) if k == 3 else struct.pack('<I', v)) for t, k, v in tags)
open('mask.tif', 'wb').write(b'II*\0' + struct.pack('<I', 8) + ifd + struct.pack('<I', 0) + mask.tobytes())
PY
common=(--backend cpu --threads 1 --seed 1 --iterations 40 --quiet --no-tiff --fft-wisdom plans.fftw)
nrmse() { "$PTYCHO" compare "$1" scan.cxi 2>/dev/null | awk '$1 == "nrmse" { print $2 }'; }
attr() { "$PY" -c "
import h5py
v = h5py.File('$1', 'r')['/detector_preparation'].attrs['$2']
print(v.decode() if isinstance(v, bytes) else v)"; }

"$PTYCHO" recon scan.cxi --output ref "${common[@]}" || fail "recon of the CXI"
"$PTYCHO" recon det.cxi --crop 64 --center 45,40 --dark /dark --output d "${common[@]}" 2>d.err ||
  { fail "recon of the detector file"; cat d.err; }
grep -qF "2 pixels of '/entry_1/data_1/data' at or above 65535 counts (saturation: the largest value of 16-bit unsigned frames) are masked" d.err ||
  { fail "the saturated pixels are named"; cat d.err; }
check "crop + centre + dark: NRMSE within 2 % of the CXI's" "x <= 1.02 * y" "$(nrmse d.h5)" "$(nrmse ref.h5)"
check "the result records 2 saturated pixels and the dark" "x == 2" "$(attr d.h5 saturated_pixels)"
[ "$(attr d.h5 dark)" = "/dark" ] && pass "dark recorded" || fail "dark recorded: $(attr d.h5 dark)"
"$PTYCHO" recon det.cxi --crop 64 --center 45,40 --output nodark "${common[@]}" 2>/dev/null || fail "recon without dark"
check "without --dark the 7-count background makes it worse" "x > 1.05 * y" "$(nrmse nodark.h5)" "$(nrmse d.h5)"

"$PTYCHO" recon det.cxi --crop 64 --center fit --dark /dark --mask-file mask.tif --output fit "${common[@]}" \
  2>fit.err || { fail "recon with a fitted centre"; cat fit.err; }
check "--center fit: the window is the given centre's (rows from 13, columns from 8)" "x == 13 && y == 8" \
  "$(attr fit.h5 window_first_row)" "$(attr fit.h5 window_first_col)"
case "$(attr fit.h5 centre_from)" in fitted*) pass "fitted centre recorded" ;; *) fail "centre_from: $(attr fit.h5 centre_from)" ;; esac
case "$(attr fit.h5 mask)" in *"mask.tif' (--mask-file) (80 pixels)"*) pass "TIFF mask recorded with its 80 pixels" ;;
  *) fail "mask recorded: $(attr fit.h5 mask)" ;; esac
check "fitted centre and TIFF mask: NRMSE within 2 % of the CXI's" "x <= 1.02 * y" "$(nrmse fit.h5)" "$(nrmse ref.h5)"

"$PTYCHO" recon scan.cxi --bin 2 --output b2 --iterations 2 --backend cpu --threads 1 --quiet --no-tiff || fail "--bin 2"
check "--bin 2: a 32x32 probe, the same object pixel (lambda z / (32 * 2p)): half the real-space window" "x == 32 && y == 1" "$("$PY" -c "
import h5py; print(h5py.File('b2.h5', 'r')['/probe'].shape[-1])")" "$("$PY" -c "
import h5py; print(round(h5py.File('b2.h5', 'r')['/pixel_size'][()] / h5py.File('ref.h5', 'r')['/pixel_size'][()], 9))")"

expect_error "non-square detector frames without --crop" \
  "'det.cxi': frames '/entry_1/data_1/data' are 80x90, not square: choose the M x M region around the beam centre with --crop M" \
  "$PTYCHO" recon det.cxi --output out/x
expect_error "a window off the detector" \
  "'det.cxi': the 64x64 window around the beam centre (500.0, 40.0) (--center) lies outside the 80x90 detector" \
  "$PTYCHO" recon det.cxi --crop 64 --center 500,40 --output out/x
expect_error "a dark of the wrong shape" \
  "'det.cxi': dark dataset '/dark_wrong' has shape 80x80; it must be 80x90 or Kx80x90 (--dark)" \
  "$PTYCHO" recon det.cxi --crop 64 --dark /dark_wrong --output out/x
expect_error "a centre that is not ROW,COL" "--center must be ROW,COL (detector pixels) or fit, got 'middle'" \
  "$PTYCHO" recon det.cxi --crop 64 --center middle --output out/x
finish
