# mpi_3modes.sh - acceptance (issue 3): P = 2 ranks (4: not yet within 1.25x), async and sync, on
# 3-mode data with 3 modes: NRMSE <= 1.25 x single rank, no seam.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mpi_common.sh"
"$PTYCHO" simulate --output scan.cxi --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 --modes 3 --seed 12 || exit 1
scaling_case scan.cxi 3 200 2
finish
