# recon_sim_1mode.sh - acceptance: noise-free, 1 mode, probe from a model (not
# the truth), 64x64 frames, 16x16 raster with 75% overlap and +-1 px jitter,
# 200 iterations: NRMSE <= 0.02.  Jitter on the pixel grid (continuous
# jitter is recon_subpixel.sh's).
. "$(dirname "$0")/common.sh"
"$PTYCHO" simulate --output scan.cxi --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 --seed 11 || exit 1
"$PTYCHO" recon --input scan.cxi --output r1 --iterations 200 --backend cpu --print-every 50 || exit 1
"$PTYCHO" compare r1.h5 scan.cxi | tee cmp.txt
check "1 mode, noise-free: NRMSE <= 0.02" "x <= 0.02" "$(value_of nrmse cmp.txt)"
finish
