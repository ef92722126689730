# recon_sim_poisson.sh - acceptance: 1 mode, Poisson noise at 1e5 photons per
# frame: NRMSE <= 0.08.
. "$(dirname "$0")/common.sh"
"$PTYCHO" simulate --output scan.cxi --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 \
  --photons 1e5 --noise poisson --seed 13 || exit 1
"$PTYCHO" recon --input scan.cxi --output r1 --iterations 200 --backend cpu --print-every 50 || exit 1
"$PTYCHO" compare r1.h5 scan.cxi | tee cmp.txt
check "1 mode, Poisson 1e5 photons: NRMSE <= 0.08" "x <= 0.08" "$(value_of nrmse cmp.txt)"
finish
