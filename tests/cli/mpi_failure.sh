# mpi_failure.sh - acceptance (issue 3): a rank that fails ends all ranks
# within seconds with one message naming the rank and the cause, and leaves
# no result behind:
#   - unreadable input: frame 15 of corrupt_tail.cxi is corrupt, and only the
#     rank holding the last rows reads it (an error all ranks agree on);
#   - out of memory on one rank in the middle of the iterations, async and
#     sync (injected with PTYCHO_FAIL_AT; the others are computing or waiting
#     in an exchange, so that rank must end the job);
#   - every rank failing alike (its --write-partials file cannot be made):
#     one message, not one a rank (issue 15).
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mpi_common.sh"
"$MAKE_BAD_INPUTS" . >/dev/null || exit 1
"$PTYCHO" simulate --output scan.cxi --rows 8 --cols 8 --step 6 --frame 32 --probe-diameter 12 --seed 3 >/dev/null || exit 1

# timed_error "what" "message" cmd...: expect_error, and within 60 s
timed_error() {
  local what=$1 want=$2 t0 t1
  shift 2
  t0=$(date +%s)
  MPI_TIMEOUT=120 expect_error "$what" "$want" "$@"
  t1=$(date +%s)
  check "$what: ended within 60 s" "x <= 60" $((t1 - t0))
}

timed_error "unreadable frames on rank 1 of 2" "rank 1: 'corrupt_tail.cxi': cannot read frame 15" \
  mpi_recon 2 --input corrupt_tail.cxi --output out/r --iterations 5 --partition 2x1 --overlap 0
export PTYCHO_FAIL_AT=2:3
for mode in async sync; do
  timed_error "$mode: rank 2 of 4 out of memory at iteration 4" \
    "rank 2: out of memory before iteration 4" \
    mpi_recon 4 --input scan.cxi --output out/r --iterations 100000 --mpi-mode "$mode"
done
unset PTYCHO_FAIL_AT
# every rank fails alike (its --write-partials file cannot be made): one message, not one a rank
timed_error "every rank's partial write fails" "cannot write '/nonexistent/dir/p_rank0.h5'" \
  mpi_recon 2 --input scan.cxi --output out/r --iterations 3 --write-partials /nonexistent/dir/p
finish
