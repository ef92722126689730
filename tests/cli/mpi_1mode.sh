# mpi_1mode.sh - acceptance (issue 3): P = 2 ranks (4: not yet within 1.25x), async and sync, on
# the 1-mode 64² case of recon.sim_1mode: NRMSE <= 1.25 x single rank, no seam.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mpi_common.sh"
"$PTYCHO" simulate --output scan.cxi --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 --seed 11 || exit 1
scaling_case scan.cxi 1 200 2
finish
