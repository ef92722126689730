# bad_input.sh - every kind of bad input gets one clear message naming the
# file, dataset or flag, a non-zero exit, and leaves no output behind.
. "$(dirname "$0")/common.sh"
"$MAKE_BAD_INPUTS" "$WORK" || { echo "cannot write test inputs"; exit 1; }
R() { "$PTYCHO" recon --iterations 2 --quiet --output out/r "$@"; }

expect_error "missing file" "cannot open 'nope.cxi' (No such file or directory)" R --input nope.cxi
expect_error "not HDF5" "'not_hdf5.cxi' is not an HDF5 file" R --input not_hdf5.cxi
expect_error "missing frames dataset" "'no_frames.cxi' has no dataset '/entry_1/data_1/data'" R --input no_frames.cxi
expect_error "frames given by a wrong path" "has no dataset '/nowhere'" R --input good.cxi --frames /nowhere
expect_error "frames of rank 2" "must be 3-D (N, M, M), got rank 2" R --input rank2.cxi
expect_error "non-square frames" "are 32x16, not square: choose the M x M region around the beam centre with --crop M" R --input nonsquare.cxi
expect_error "positions count differs from frames" "holds 15 positions but there are 16 frames" R --input count_mismatch.cxi
expect_error "positions far outside any sane object" "an object wider than" R --input far_positions.cxi
expect_error "positions in metres given as pixels" \
  "all 16 positions lie within 9e-07 x 9e-07 object pixels, so every frame sees the same spot" \
  R --input good.cxi --positions-px /positions_metres_rc
expect_error "unknown probe model" "--probe-model must be one of auto|data|disc|gauss|aperture, got 'zoneplate'" \
  R --input good.cxi --probe-model zoneplate
expect_error "probe search neither on nor off" "--probe-search must be one of off|on, got 'maybe'" \
  R --input good.cxi --probe-search maybe
expect_error "stitch ramp neither on nor off" "--stitch-ramp must be one of off|on, got 'maybe'" \
  R --input good.cxi --stitch-ramp maybe
expect_error "old and new ramp flags disagree" "--stitch-no-ramp and --stitch-ramp on contradict each other" \
  R --input good.cxi --stitch-ramp on --stitch-no-ramp
expect_error "old and new spelling of the MPI mode disagree" "--mode sync and --mpi-mode async disagree" \
  R --input good.cxi --mode sync --mpi-mode async
expect_error "unknown MPI mode" "--mpi-mode must be one of async|sync, got 'fast'" R --input good.cxi --mpi-mode fast
expect_error "aperture model without its lens" "--probe-model aperture needs --probe-aperture and --probe-focal-length" \
  R --input good.cxi --probe-model aperture --probe-defocus 1e-3
expect_error "lens flags without the aperture model" "--probe-aperture, --probe-focal-length and --probe-defocus describe --probe-model aperture" \
  R --input good.cxi --probe-aperture 1e-4
expect_error "a lens whose beam is wider than the window" "--probe-defocus 0.5 m makes a beam" \
  R --input good.cxi --probe-model aperture --probe-aperture 1e-4 --probe-focal-length 0.1 --probe-defocus 0.5
expect_error "zero energy in file" "energy must be positive" R --input zero_energy.cxi
expect_error "negative distance in file" "distance must be positive" R --input negative_distance.cxi
expect_error "negative energy flag" "--energy -5 is out of range" R --input good.cxi --energy -5
expect_error "zero pixel-size flag" "--pixel-size 0 is out of range" R --input good.cxi --pixel-size 0
expect_error "zero modes" "--modes must be between 1 and 64 (got 0)" R --input good.cxi --modes 0
expect_error "rPIE without regularisation" "--rpie must be in (0, 1] (got 0)" R --input good.cxi --rpie 0
expect_error "absurd modes" "--modes must be between 1 and 64 (got 1000)" R --input good.cxi --modes 1000
expect_error "modes beyond an int" "--modes 99999999999 is too large for an integer" R --input good.cxi --modes 99999999999
expect_error "zero object step" "--alpha must be in (0, 2] (got 0)" R --input good.cxi --alpha 0
expect_error "negative rPIE (the library's off) by hand" "--rpie -0.5 is out of range [0, 1]" R --input good.cxi --rpie -0.5
expect_error "non-numeric value" "--iterations expects an integer, got 'ten'" R --input good.cxi --iterations ten
expect_error "unknown flag" "unknown flag '--bogus'" R --input good.cxi --bogus 3
expect_error "unknown backend" "--backend must be one of auto|cpu|cuda, got 'opencl'" R --input good.cxi --backend opencl
expect_error "unknown frame placement" "ptycho recon: --gpu-frames must be one of auto|resident|streamed, got 'disk'" R --input good.cxi --gpu-frames disk
expect_error "output directory missing" "cannot write to output directory 'out/missing'" \
  "$PTYCHO" recon --input good.cxi --iterations 2 --quiet --output out/missing/r
touch out_is_file
expect_error "output prefix empty" "ptycho recon: --output '.h5' is not a file prefix" \
  "$PTYCHO" recon --input good.cxi --iterations 2 --quiet --output .h5
echo "not wisdom" > junk.fftw
expect_error "corrupt FFT wisdom" "FFT wisdom file 'junk.fftw' is not FFTW single-precision wisdom" \
  R --input good.cxi --backend cpu --fft-wisdom junk.fftw
expect_error "FFT wisdom unwritable" "cannot write FFT wisdom file 'out/none/w.fftw' (No such file or directory)" \
  R --input good.cxi --backend cpu --fft-wisdom out/none/w.fftw
expect_error "output directory is a file" "cannot write to output directory 'out_is_file'" \
  "$PTYCHO" recon --input good.cxi --iterations 2 --quiet --output out_is_file/r
if [ "$(id -u)" -ne 0 ]; then
  mkdir -p ro && chmod 555 ro
  expect_error "output directory read-only" "cannot write to output directory 'ro'" \
    "$PTYCHO" recon --input good.cxi --iterations 2 --quiet --output ro/r
fi
expect_error "unknown subcommand" "unknown command 'reconstruct'" "$PTYCHO" reconstruct good.cxi

# The stitch settings are one block shared by recon and stitch: one name, one
# range, one message; stitch's old spellings are one-line-warned aliases.
mkdir -p parts
"$PTYCHO" recon --input good.cxi --iterations 2 --quiet --output parts/r --write-partials parts/p 2>/dev/null \
  || { fail "cannot write a partial for the stitch checks"; finish; }
ST() { "$PTYCHO" stitch parts/p_rank0.h5 parts/p_rank0.h5 --output out/s "$@"; }
same_message() { # what, then two commands' error lines; equal once "ptycho <command>: " is dropped
  local what=$1 a b
  a=$(sed -n 's/^ptycho: error: ptycho [a-z]*: //p' "$2")
  b=$(sed -n 's/^ptycho: error: ptycho [a-z]*: //p' "$3")
  if [ -n "$a" ] && [ "$a" = "$b" ]; then pass "$what: '$a'"; else fail "$what: '$a' vs '$b'"; fi
}
for bad in "stitch-upsample 0" "stitch-max-error 2" "stitch-max-shift -1"; do
  set -- $bad
  expect_error "recon --$1 $2" "ptycho recon: --$1 must be in" R --input good.cxi --"$1" "$2"
  cp stderr.txt recon_err.txt
  expect_error "stitch --$1 $2" "ptycho stitch: --$1 must be in" ST --"$1" "$2"
  same_message "recon and stitch say the same of --$1 $2" recon_err.txt stderr.txt
done
expect_error "stitch's old --upsample out of range" "ptycho stitch: --stitch-upsample must be in [1, 1000] (got 0)" ST --upsample 0
expect_error "old and new spelling of the up-sampling disagree" \
  "--upsample 4 and --stitch-upsample 8 disagree (--upsample is the old name of --stitch-upsample)" \
  ST --stitch-upsample 8 --upsample 4
expect_error "stitch's old --no-ramp and --stitch-ramp on" "--no-ramp and --stitch-ramp on contradict each other" \
  ST --no-ramp --stitch-ramp on
expect_error "stitch ramp neither on nor off (old spelling)" "ptycho stitch: --stitch-ramp must be one of off|on, got 'maybe'" \
  ST --ramp maybe
rm -rf out && mkdir out
if ST --stitch-upsample 4 >stdout.txt 2>stderr.txt && [ -f out/s.h5 ] && ! grep -q warning stderr.txt; then
  pass "ptycho stitch --stitch-upsample 4"
else fail "ptycho stitch --stitch-upsample 4"; sed 's/^/    /' stderr.txt; fi
mv out/s.h5 new_name.h5
if ST --upsample 4 >stdout.txt 2>stderr.txt && [ -f out/s.h5 ]; then
  check "ptycho stitch --upsample 4 warns once" "x == 1 && y == 1" "$(grep -c warning stderr.txt)" \
    "$(grep -c '^ptycho: warning: --upsample is the old name of --stitch-upsample: use --stitch-upsample 4$' stderr.txt)"
  "$PTYCHO" compare out/s.h5 new_name.h5 >cmp_names.txt
  check "old and new spelling stitch alike (NRMSE < 1e-6)" "x < 1e-6" "$(value_of nrmse cmp_names.txt)"
  expect_error "compare --upsample out of range (the library's range)" "--upsample must be in [1, 1000] (got 0)" \
    "$PTYCHO" compare new_name.h5 new_name.h5 --upsample 0
else fail "ptycho stitch --upsample 4"; sed 's/^/    /' stderr.txt; fi
rm -rf parts

# NaN, Inf and negative counts are masked with a warning, not refused
rm -rf out && mkdir out
if "$PTYCHO" recon --input bad_values.cxi --iterations 2 --quiet --output out/r 2>stderr.txt; then
  if grep -q "3 pixels of '/entry_1/data_1/data' are NaN, Inf or negative" stderr.txt && [ -f out/r.h5 ]; then pass "NaN/Inf/negative counts masked with a warning"
  else fail "NaN/Inf/negative: no warning or no output"; cat stderr.txt; fi
else
  fail "NaN/Inf/negative counts refused"; cat stderr.txt
fi

# the good file works, so the failures above are the defects, not the file
rm -rf out && mkdir out
if "$PTYCHO" recon --input good.cxi --iterations 2 --quiet --output out/r && [ -f out/r.h5 ] \
   && [ -f out/r_object_phase.tif ] && [ ! -e out/r.h5.tmp ]; then pass "good input reconstructs"
else fail "good input"; fi
finish
