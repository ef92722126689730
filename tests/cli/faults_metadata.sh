# faults_metadata.sh - results from incompatible inputs (issue 15, class 5): results whose object
# pixels differ (here 10 %: 8.9 keV against 8 keV) are refused by stitch, compare and frc, naming
# both files and sizes; a stitch of one scan's parts records their pixel size (not 0).
. "$(dirname "$0")/common.sh"
need_numpy
sim() { "$PTYCHO" simulate --rows 10 --cols 10 --step 6 --frame 32 --seed 4 "$@" >/dev/null || fail "simulate $*"; }
recon() { "$PTYCHO" recon --backend cpu --threads 1 --quiet --no-tiff --iterations 10 "$@" || fail "recon $*"; }
sim --output a.cxi
sim --output b.cxi --energy 8900
recon a.cxi --output ra
recon b.cxi --output rb
expect_error "stitch of results with different pixel sizes" "'ra.h5' has object pixels of" \
  "$PTYCHO" stitch ra.h5 rb.h5 --output out/s
grep -qF "(10 % apart): stitching needs results of one pixel size" stderr.txt || { fail "stitch: the sizes"; cat stderr.txt; }
expect_error "compare against a truth of another pixel size" "'ra.h5' has object pixels of" \
  "$PTYCHO" compare ra.h5 b.cxi
expect_error "frc of results with different pixel sizes" "'ra.h5' has object pixels of" \
  "$PTYCHO" frc ra.h5 rb.h5 --output out/f
recon a.cxi --output ra2 --seed 2
"$PTYCHO" stitch ra.h5 ra2.h5 --output same --no-tiff --stitch-max-shift 20 >/dev/null 2>&1 || fail "stitch of one scan"
check "a stitch records its parts' pixel size" "x > 0 && (x - y) / y < 1e-9 && (y - x) / y < 1e-9" \
  "$("$PY" -c "import h5py; print(h5py.File('same.h5', 'r')['/pixel_size'][()])")" \
  "$("$PY" -c "import h5py; print(h5py.File('ra.h5', 'r')['/pixel_size'][()])")"
finish
