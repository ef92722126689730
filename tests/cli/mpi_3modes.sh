# mpi_3modes.sh - acceptance (issue 3): as mpi_1mode.sh, on 3-mode data
# reconstructed with 3 modes.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mpi_common.sh"
"$PTYCHO" simulate --output scan.cxi --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 --modes 3 --noise poisson --photons 1e6 --seed 12 || exit 1
scaling_case scan.cxi 3 200 2 4
finish
