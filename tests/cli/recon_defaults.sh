# recon_defaults.sh - acceptance (issue 11): the defaults converge on
# ordinary scans.  Every reconstruction runs with no probe in the file, the
# default first probe (the search), the default order and 2 CPU threads (so
# auto = batched), 100 iterations, and is scored against the truth:
#   defocused-aperture probes from in focus to filling the window, 1 mode,
#   noise-free, whole-pixel jitter: NRMSE <= 0.02;
#   3 modes, Poisson 1e6 photons a frame: <= 0.05;
#   the j15 scan (20 x 20 raster, continuous +-1.5 px jitter) for 8 seeds:
#   <= 0.06 each (continuous positions are rounded: ~0.045 is the floor);
#   a strong phase object (--phase-max 2): <= 0.05;  a Gaussian beam: <= 0.05.
. "$(dirname "$0")/common.sh"
R() { "$PTYCHO" recon --backend cpu --threads 2 --no-tiff --print-every 1000 "$@"; }
score() { "$PTYCHO" compare "$1.h5" "$2" | value_of nrmse /dev/stdin; }
sim() { "$PTYCHO" simulate --rows 20 --cols 20 --frame 64 --seed 3 "$@" >/dev/null || exit 1; }

# spot diameter (object px) and raster step: in focus the spot is ~3 px
# and needs a fine step to overlap; defocused spots up to 60 of 64 px
for case in "1 2" "16 6" "32 8" "48 8" "60 8"; do
  set -- $case
  sim --output d$1.cxi --probe-diameter "$1" --step "$2" --jitter 1 --jitter-whole-pixels
  R --input d$1.cxi --output r_d$1 > log_d$1.txt 2>&1 || { fail "spot $1: recon failed"; cat log_d$1.txt; continue; }
  grep "first probe" log_d$1.txt
  check "defocused aperture, spot $1 px, step $2, 1 mode, noise-free: NRMSE <= 0.02" "x <= 0.02" "$(score r_d$1 d$1.cxi)"
  if grep -q "warning" log_d$1.txt; then fail "spot $1: warned on a converged run"; grep warning log_d$1.txt; fi
done

for spot in 24 56; do
  sim --output p$spot.cxi --probe-diameter $spot --step 8 --jitter 1 --jitter-whole-pixels --modes 3 \
    --noise poisson --photons 1e6
  R --input p$spot.cxi --output r_p$spot --modes 3 > log_p$spot.txt 2>&1 || { fail "3 modes $spot: recon failed"; continue; }
  check "defocused aperture, spot $spot px, 3 modes, Poisson 1e6: NRMSE <= 0.05" "x <= 0.05" "$(score r_p$spot p$spot.cxi)"
done

"$PTYCHO" simulate --output j15.cxi --rows 20 --cols 20 --frame 64 --jitter 1.5 >/dev/null || exit 1
for seed in 1 2 3 4 5 6 7 8; do
  R --input j15.cxi --output r_j15_$seed --seed $seed > log_j15_$seed.txt 2>&1 || { fail "j15 seed $seed: recon failed"; continue; }
  check "j15, seed $seed: NRMSE <= 0.06" "x <= 0.06" "$(score r_j15_$seed j15.cxi)"
done

# a Gaussian beam (curved: a flat one stagnates in any ePIE on the star, README)
"$PTYCHO" simulate --output g.cxi --probe gaussian >/dev/null || exit 1
R --input g.cxi --output r_g > log_g.txt 2>&1 || fail "gaussian: recon failed"
check "--probe gaussian: NRMSE <= 0.05" "x <= 0.05" "$(score r_g g.cxi)"

# the order and sets a GPU runs (one worker: sets of up to 16 windows)
for seed in 1 2 3 4 5 6 7 8; do
  "$PTYCHO" recon --backend cpu --threads 1 --order batched --no-tiff --print-every 1000 --input j15.cxi \
    --output r_j15b_$seed --seed $seed > log_j15b_$seed.txt 2>&1 || { fail "j15 batched seed $seed: recon failed"; continue; }
  check "j15, one thread batched (the GPU's sets), seed $seed: NRMSE <= 0.06" "x <= 0.06" "$(score r_j15b_$seed j15.cxi)"
done

"$PTYCHO" simulate --output pm2.cxi --phase-max 2 >/dev/null || exit 1
for seed in 1 2 3 4 5 6; do
  R --input pm2.cxi --output r_pm2_$seed --seed $seed > log_pm2_$seed.txt 2>&1 || fail "phase-max 2: recon failed"
  check "--phase-max 2, seed $seed: NRMSE <= 0.05" "x <= 0.05" "$(score r_pm2_$seed pm2.cxi)"
done

if grep -q "first probe: search: measured far-field modulus" log_pm2_1.txt; then pass "the chosen start is printed"
else fail "no 'first probe' line"; cat log_pm2_1.txt; fi
finish
