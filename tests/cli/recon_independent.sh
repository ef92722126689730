# recon_independent.sh - acceptance (issue 11) on data ptycho did not make:
# tests/indep/indep_sim.py, a numpy simulator written from the physics (a
# lens pupil propagated by Fresnel defocus, exact sub-pixel shifts on a
# canvas twice the window, fly-scan modes from a motion blur, a photographic
# object).  Defaults, no probe in the file, 2 CPU threads, 100 iterations:
#   beams from in focus to filling 90 % of the window, 1 mode, noise-free,
#   whole-pixel jitter: NRMSE <= 0.02;  3 modes, Poisson 1e6: <= 0.05;
#   continuous +-1.5 px jitter, 8 seeds: <= 0.06 each;  --phase-max 2: <= 0.05;
#   a rough probe guess in the file: centring on and off within 10 %;
#   --probe-model aperture with the simulator's optics reproduces its probe
#   (normalised correlation >= 0.99) from in focus to a beam filling the window.
. "$(dirname "$0")/common.sh"
need_numpy
SIM="$PY $(dirname "$0")/../indep/indep_sim.py"
R() { "$PTYCHO" recon --backend cpu --threads 2 --no-tiff --print-every 1000 "$@"; }
score() { "$PTYCHO" compare "$1.h5" "$2" | value_of nrmse /dev/stdin; }

for fill in 0.3 0.6 0.9; do
  $SIM a$fill.cxi --fill $fill --whole-pixel --jitter 1.5 >/dev/null || exit 1
  R --input a$fill.cxi --output ra$fill > log_a$fill.txt 2>&1 || { fail "fill $fill: recon failed"; cat log_a$fill.txt; continue; }
  grep "first probe" log_a$fill.txt
  check "independent, beam filling $fill of the window, 1 mode, noise-free: NRMSE <= 0.02" "x <= 0.02" \
    "$(score ra$fill a$fill.cxi)"
done

$SIM c.cxi --fill 0.6 --whole-pixel --jitter 1.5 --modes 3 --poisson >/dev/null || exit 1
R --input c.cxi --output rc --modes 3 > log_c.txt 2>&1 || fail "3 modes: recon failed"
check "independent, 3 fly-scan modes, Poisson 1e6: NRMSE <= 0.05" "x <= 0.05" "$(score rc c.cxi)"

$SIM e.cxi --fill 0.6 --whole-pixel --jitter 1.5 --phase-max 2 >/dev/null || exit 1
R --input e.cxi --output re > log_e.txt 2>&1 || fail "phase-max 2: recon failed"
check "independent, phase up to 2 rad: NRMSE <= 0.05" "x <= 0.05" "$(score re e.cxi)"

$SIM d.cxi --fill 0.6 --jitter 1.5 >/dev/null || exit 1
for seed in 1 2 3 4 5 6 7 8; do
  R --input d.cxi --output rd$seed --seed $seed > log_d$seed.txt 2>&1 || { fail "seed $seed: recon failed"; continue; }
  check "independent, continuous jitter, seed $seed: NRMSE <= 0.06" "x <= 0.06" "$(score rd$seed d.cxi)"
done

$SIM g.cxi --fill 0.9 --whole-pixel --jitter 1.5 --probe-guess rough >/dev/null || exit 1
R --input g.cxi --output rg_on > log_g_on.txt 2>&1 || fail "rough guess: recon failed"
R --input g.cxi --output rg_off --no-probe-centering > log_g_off.txt 2>&1 || fail "rough guess, no centring: recon failed"
on=$(score rg_on g.cxi)
off=$(score rg_off g.cxi)
check "independent, rough guess in the file, centring on: NRMSE <= 0.02" "x <= 0.02" "$on"
check "centring on within 10 % of centring off" "x <= 1.1 * y && y <= 1.1 * x" "$on" "$off"

# the optics model against the simulator's own lens (its attributes)
for fill in 0.3 0.6 0.9 1.0; do
  $SIM o$fill.cxi --fill $fill --rows 4 --cols 4 >/dev/null || exit 1
  read -r ap fl dz < <($PY -c "import h5py; a = h5py.File('o$fill.cxi')['/entry_1/ground_truth'].attrs; print(a['aperture_diameter_m'], a['focal_length_m'], a['defocus_m'])")
  R --input o$fill.cxi --output ro$fill --iterations 1 --beta 0 --probe-model aperture --probe-aperture "$ap" \
    --probe-focal-length "$fl" --probe-defocus "$dz" > log_o$fill.txt 2>&1 || { fail "model $fill: recon failed"; cat log_o$fill.txt; continue; }
  corr=$($PY - "ro$fill.h5" "o$fill.cxi" <<'PYEOF'
import sys, h5py, numpy as np
def cplx(d):
    return d['r'] + 1j * d['i'] if d.dtype.names else d
a = cplx(h5py.File(sys.argv[1])['probe'][0])
b = cplx(h5py.File(sys.argv[2])['/entry_1/ground_truth/probe'][0])
print(abs(np.vdot(a, b)) / np.linalg.norm(a) / np.linalg.norm(b))
PYEOF
)
  check "--probe-model aperture reproduces the independent lens (fill $fill, defocus $dz m): correlation >= 0.99" \
    "x >= 0.99" "$corr"
done
finish
