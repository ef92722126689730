# recon_flyscan.sh - acceptance (issue 13): a simulated fly scan, the
# sample moving 0.8 steps during each exposure (8 sub-positions over
# 4.8 px at a 6 px step), Poisson counts (1e6 photons a frame), 200
# iterations: 5 probe modes reach <= 0.6 x the NRMSE of 1 mode.  Measured
# here: 1 mode 0.110, 5 modes 0.0428 (0.39 x).  Positions on the pixel
# grid (--jitter-whole-pixels), so only the motion blur separates the two.
. "$(dirname "$0")/common.sh"
"$PTYCHO" simulate --output fly.cxi --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 \
  --fly-steps 8 --fly-length 4.8 --noise poisson --photons 1e6 --seed 5 || exit 1
for k in 1 5; do
  "$PTYCHO" recon fly.cxi --output k$k --modes $k --iterations 200 --print-every 100 --no-tiff || { fail "recon --modes $k"; finish; }
  "$PTYCHO" compare k$k.h5 fly.cxi | tee cmp$k.txt
done
check "fly scan: 5 modes <= 0.6 x the NRMSE of 1 mode" "x <= 0.6 * y" "$(value_of nrmse cmp5.txt)" "$(value_of nrmse cmp1.txt)"
finish
