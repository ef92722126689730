# frc.sh - `ptycho recon --half-set even|odd` reconstructs the two
# interleaved halves of one scan (128 of 256 frames each), and `ptycho frc`
# correlates them: a scan with 1e6 photons a frame agrees up to (nearly)
# Nyquist, one with 1e4 crosses the half-bit threshold at a longer period,
# and a result against itself never crosses.  Writes the curve (CSV, one
# line per ring) and its plot; bad calls give one clear message.
# (The FRC itself is checked against theory in frc.unit.)
. "$(dirname "$0")/common.sh"
S() { "$PTYCHO" simulate --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 --noise poisson --seed 3 "$@" >/dev/null; }
R() { "$PTYCHO" recon --iterations 60 --no-tiff --print-every 1000 "$@"; }
period() { awk '$1 == "half_bit_px" { print $2; exit }' "$1"; }
for ph in 1e6 1e4; do
  S --photons $ph --output s$ph.cxi || exit 1
  for h in even odd; do R s$ph.cxi --half-set $h --output r${ph}_$h >log_$h.txt || { fail "recon --half-set $h"; finish; }; done
  grep -q "frames 128 of 64x64" log_even.txt && grep -q "frames 128 of 64x64" log_odd.txt \
    && pass "$ph: each half holds 128 of the 256 frames" || fail "$ph: halves not 128 frames"
  "$PTYCHO" frc r${ph}_even.h5 r${ph}_odd.h5 --output c$ph | tee frc$ph.txt || fail "frc $ph"
done
check "1e6 photons: the halves agree to (nearly) Nyquist (half-bit period <= 2.5 px)" "x <= 2.5" "$(period frc1e6.txt)"
grep -q "^half_bit_px [0-9.]*$" frc1e4.txt && pass "1e4 photons: the half-bit threshold is crossed" || fail "1e4: no crossing"
check "fewer photons, coarser resolution (1e4 vs 1e6)" "x > y" "$(period frc1e4.txt)" "$(period frc1e6.txt)"
# N = the region's larger side, made even; rings 0 .. N/2
rings=$(awk '$1 == "region" { n = $4 > $5 ? $4 : $5; n += n % 2; print n / 2 + 1 }' frc1e4.txt)
check "the curve has a header and a line per ring (N/2 + 1 = $rings)" "x == y + 1" "$(wc -l <c1e4.csv)" "$rings"
[ -s c1e4.png ] && pass "plot written" || fail "no plot"
"$PTYCHO" frc r1e6_even.h5 r1e6_even.h5 --output self >self.txt
grep -q "^half_bit_px 2 (not reached" self.txt && pass "a result against itself never crosses" || { fail "self FRC"; cat self.txt; }
expect_error "one file" "ptycho frc: expected two results A.h5 B.h5, got 1 file" "$PTYCHO" frc r1e6_even.h5
expect_error "output over an input" "would overwrite an input" "$PTYCHO" frc c1e6.csv r1e6_odd.h5 --output c1e6
expect_error "empty half" "--half-set odd: the scan has 1 frame, so that half is empty" sh -c \
  "'$PTYCHO' simulate --rows 1 --cols 1 --frame 32 --output one.cxi >/dev/null && '$PTYCHO' recon one.cxi --half-set odd --output out/x"
finish
