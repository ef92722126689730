# mpi_stitch.sh - `ptycho stitch` merges the partial results that
# `ptycho recon --write-partials` leaves (one file per block) exactly as the
# asynchronous run merged them, and refuses bad part lists with one message.
# The run uses the old spelling --mode, which still works and says once (on
# rank 0 only) that it is now --mpi-mode; stitch's old --upsample likewise.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mpi_common.sh"
"$PTYCHO" simulate --output scan.cxi --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 --noise poisson --seed 5 >/dev/null || exit 1
mpi_recon 4 --input scan.cxi --output async --iterations 100 --mode async --print-every 1000 --write-partials part \
  2>stderr_old_mode.txt | grep merge || exit 1
check "--mode is accepted with one deprecation line" "x == 1" \
  "$(grep -c -- 'warning: --mode is the old name of --mpi-mode' stderr_old_mode.txt)"
"$PTYCHO" stitch part_rank0.h5 part_rank1.h5 part_rank2.h5 part_rank3.h5 --output stitched | tee stitch.txt || exit 1
"$PTYCHO" compare async.h5 scan.cxi | tee cmp_async.txt
"$PTYCHO" compare stitched.h5 scan.cxi | tee cmp_stitched.txt
"$PTYCHO" compare stitched.h5 async.h5 | tee cmp_same.txt
a=$(value_of nrmse cmp_async.txt)
b=$(value_of nrmse cmp_stitched.txt)
check "stitch of the partials scores as the async run (NRMSE within 1%)" "x <= 1.01 * y && y <= 1.01 * x" "$b" "$a"
check "stitched object equals the async run's (NRMSE < 1e-3)" "x < 1e-3" "$(value_of nrmse cmp_same.txt)"
check "stitch reports 3 merges" "x == 3" "$(grep -c '^merge ' stitch.txt)"
for f in stitched_object_phase.tif stitched_object_phase.png; do
  [ -s "$f" ] && pass "wrote $f" || fail "missing $f"
done
# recon's name for the up-sampling, and stitch's old one (one deprecation line), give the same object
parts="part_rank0.h5 part_rank1.h5 part_rank2.h5 part_rank3.h5"
"$PTYCHO" stitch $parts --output new_name --stitch-upsample 20 --no-tiff >/dev/null 2>stderr_new.txt || exit 1
"$PTYCHO" stitch $parts --output old_name --upsample 20 --no-tiff >/dev/null 2>stderr_old.txt || exit 1
check "--stitch-upsample: no warning; --upsample: one deprecation line" "x == 0 && y == 1" \
  "$(grep -c warning stderr_new.txt)" "$(grep -c -- 'warning: --upsample is the old name of --stitch-upsample' stderr_old.txt)"
for f in new_name old_name; do
  "$PTYCHO" compare $f.h5 stitched.h5 >cmp_$f.txt
  check "stitch $f equals the default stitch (NRMSE < 1e-6)" "x < 1e-6" "$(value_of nrmse cmp_$f.txt)"
done
expect_error "one part" "give at least two part files" "$PTYCHO" stitch part_rank0.h5 --output out/s
expect_error "missing part" "cannot open 'nothere.h5'" "$PTYCHO" stitch part_rank0.h5 nothere.h5 --output out/s
"$PTYCHO" simulate --output other.cxi --rows 4 --cols 4 --frame 32 --seed 2 >/dev/null || exit 1
expect_error "parts of different scans" "not parts of one scan" "$PTYCHO" stitch part_rank0.h5 other.cxi --output out/s
finish
