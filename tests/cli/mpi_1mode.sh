# mpi_1mode.sh - acceptance (issue 3): P = 2 and 4 ranks, async and sync, on
# the 64² 16x16 raster of recon.sim_1mode with Poisson noise (1e6 counts a
# frame): NRMSE <= 1.25 x single rank after the same 200 iterations, and no
# seam.  Noise-free data at 200 iterations mostly measure how fast each
# variant converges (blocks converge more slowly); see the issue 3 note.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mpi_common.sh"
"$PTYCHO" simulate --output scan.cxi --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 --noise poisson --photons 1e6 --seed 11 || exit 1
scaling_case scan.cxi 1 200 2 4
finish
