# recon_sim_3modes.sh - acceptance: data made with 3 incoherent modes; a
# 3-mode reconstruction reaches NRMSE <= 0.05 and at most half the NRMSE of a
# 1-mode reconstruction of the same data.
. "$(dirname "$0")/common.sh"
"$PTYCHO" simulate --output scan.cxi --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 --modes 3 --seed 12 || exit 1
"$PTYCHO" recon --input scan.cxi --output r3 --modes 3 --iterations 200 --backend cpu --print-every 50 || exit 1
"$PTYCHO" recon --input scan.cxi --output r1 --modes 1 --iterations 200 --backend cpu --print-every 50 || exit 1
"$PTYCHO" compare r3.h5 scan.cxi | tee cmp3.txt
"$PTYCHO" compare r1.h5 scan.cxi | tee cmp1.txt
n3=$(value_of nrmse cmp3.txt)
n1=$(value_of nrmse cmp1.txt)
check "3 modes: NRMSE <= 0.05" "x <= 0.05" "$n3"
check "3 modes: NRMSE at most half the 1-mode NRMSE" "x <= 0.5 * y" "$n3" "$n1"
finish
