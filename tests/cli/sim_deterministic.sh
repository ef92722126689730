# sim_deterministic.sh - the same seed gives the same file contents, another
# seed different ones, and a result compares to itself with NRMSE ~ 0.
# Seeds use all 64 bits: two above 2^63 that differ only in the top bit
# give different files (a signed parse refused them, a 63-bit one would
# give the same file).
. "$(dirname "$0")/common.sh"
S() { "$PTYCHO" simulate --rows 4 --cols 5 --step 6 --jitter 1 --frame 32 --modes 2 --noise poisson --photons 1e4 "$@"; }
S --seed 5 --output a.cxi >/dev/null || exit 1
S --seed 5 --output b.cxi >/dev/null || exit 1
S --seed 6 --output c.cxi >/dev/null || exit 1
if cmp -s a.cxi b.cxi; then pass "same seed, identical file"; else fail "same seed gave different files"; fi
if cmp -s a.cxi c.cxi; then fail "different seeds gave the same file"; else pass "different seed, different file"; fi
S --seed 9223372036854775813 --output d.cxi >/dev/null || fail "seed 2^63 + 5 refused"
if [ -f d.cxi ] && ! cmp -s a.cxi d.cxi; then pass "seed 2^63 + 5 differs from seed 5"; else fail "seed 2^63 + 5 gave seed 5's file"; fi
S --seed 18446744073709551615 --output e.cxi >/dev/null && pass "seed 2^64 - 1 accepted" || fail "seed 2^64 - 1 refused"
expect_error "seed 2^64" "--seed 18446744073709551616 is out of range" S --seed 18446744073709551616 --output f.cxi
expect_error "negative seed" "--seed expects an integer, got '-1'" S --seed -1 --output f.cxi
# --step 0: 70 % overlap of the probe (0.3 x its diameter 3m/8 = 3.6, rounded), as bench's seed case
S --seed 5 --step 0 --output g.cxi >step0.txt 2>&1 && grep -q "step 4 px" step0.txt && pass "--step 0 is 70 % overlap (step 4 px)" \
  || { fail "--step 0"; cat step0.txt; }
# ranges are the simulator's own check (pty_sim_validate), stated once, after all flags are parsed
expect_error "frame too small" "ptycho simulate: --frame 8 must lie in [16, 4096] pixels" S --frame 8 --output f.cxi
expect_error "too many photons" "ptycho simulate: --photons 1e+20 must lie in [0.001, 1e15]" S --photons 1e20 --output f.cxi
expect_error "energy out of range" "ptycho simulate: --energy 0.5 must lie in [1, 1e7] eV" S --energy 0.5 --output f.cxi
expect_error "auto curvature not reachable" "--probe-curvature -1 is out of range [0, 100]" S --probe gaussian --probe-curvature -1 --output f.cxi
finish
