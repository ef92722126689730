# recon_batched.sh - acceptance (issue 4): the batched order (sets of
# positions with non-overlapping windows, spread over 2 CPU threads, probe
# steps summed per set) converges like the sequential order on the core
# issue's cases: final NRMSE within 10 %, and the Fourier error within 25 %
# of the sequential one at iterations 25, 50, 100 and 200.
. "$(dirname "$0")/common.sh"
run_case() {
  local name=$1 modes=$2 seed=$3
  "$PTYCHO" simulate --output "$name.cxi" --rows 16 --cols 16 --step 6 --jitter 1 --jitter-whole-pixels --frame 64 \
    --modes "$modes" --seed "$seed" >/dev/null || exit 1
  for order in sequential batched; do
    "$PTYCHO" recon --input "$name.cxi" --output "${name}_$order" --modes "$modes" --iterations 200 --backend cpu \
      --threads 2 --order "$order" --print-every 25 --no-tiff >"${name}_$order.log" || exit 1
    "$PTYCHO" compare "${name}_$order.h5" "$name.cxi" >"${name}_$order.cmp"
  done
  local s b
  s=$(value_of nrmse "${name}_sequential.cmp")
  b=$(value_of nrmse "${name}_batched.cmp")
  check "$name: batched NRMSE within 10% of sequential" "x <= 1.1 * y" "$b" "$s"
  for it in 25 50 100 200; do
    s=$(awk -v i="$it" '$1 == "iter" { split($2, a, "/"); if (a[1] == i) print $5 }' "${name}_sequential.log")
    b=$(awk -v i="$it" '$1 == "iter" { split($2, a, "/"); if (a[1] == i) print $5 }' "${name}_batched.log")
    check "$name: Fourier error at iteration $it within 25% (batched vs sequential)" "x <= 1.25 * y && y <= 1.25 * x" "$b" "$s"
  done
}
run_case one_mode 1 11
run_case three_modes 3 12
finish
