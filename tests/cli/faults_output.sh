# faults_output.sh - the files a run writes (issue 15, classes 1, 2 and 6): all of them or none,
# never over an input, never two runs into one prefix.
#   two runs with one --output: the second is refused at once, naming the first's process; the
#     first's result is whole (object, probe and errors not zero); a run killed with SIGKILL leaves
#     no claim behind;
#   --output whose .h5 is the input (by name, another spelling, a hard or a symbolic link), and a stitch
#     onto one of its parts: refused, the input unchanged;
#   simulate again onto its own earlier --output file: replaced (what --output names is not an input);
#   a full disk (a small tmpfs, when this user may mount one): the .h5 fits, the images do not:
#     exit 1 naming the file and the reason, and nothing left in the directory;
#   SIGTERM and SIGINT while the result is being written (PTYCHO_STAGE_DELAY holds each written
#     file for a second): the process dies of the signal and leaves no result and no temporary;
#   a file-size limit (ulimit -f) below the result: exit 1 with a message, nothing left (SIGXFSZ
#     does not kill the process).
. "$(dirname "$0")/common.sh"
need_numpy
"$PTYCHO" simulate --output s.cxi --rows 12 --cols 12 --step 5 --frame 32 --seed 4 >/dev/null || exit 1
# a file --output names is where the run writes, not an input: a second simulate replaces it
"$PTYCHO" simulate --output s.cxi --rows 12 --cols 12 --step 5 --frame 32 --seed 4 >/dev/null 2>again.err &&
  pass "simulate again onto its own earlier output replaces it" || { fail "simulate again onto its output"; cat again.err; }
recon() { "$PTYCHO" recon --backend cpu --threads 1 --quiet "$@"; }
empty_of_results() { # DIR: no .h5, .tif, .png or temporary left
  local left
  left=$(ls "$1" | grep -E '\.(h5|tif|png)$|\.tmp|write-test' || true)
  [ -z "$left" ] || { echo "    left behind in $1: $left"; return 1; }
}

# 1. two runs, one --output
# the first run holds each file it writes for 2 s (PTYCHO_STAGE_DELAY), so it is still running when
# the second starts however fast its iterations are (400 of them once took longer than 0.5 s; no more)
PTYCHO_STAGE_DELAY=2 "$PTYCHO" recon --backend cpu --threads 1 --quiet s.cxi --output same --iterations 400 >a.txt 2>a.err &
first=$!
sleep 0.5
recon s.cxi --output same --iterations 5 >b.txt 2>b.err
rc=$?
check "a second run with the same --output: refused" "x != 0" "$rc"
grep -q "is being written by another ptycho run (process $first)" b.err &&
  pass "a second run names the first: $(cat b.err)" || { fail "second run's message"; cat b.err; }
wait $first || fail "the first run"
check "the first run's result is whole (object, probe and errors not zero)" "x == 1" "$("$PY" -c "
import h5py, numpy as np
r = h5py.File('same.h5', 'r')
print(int(all(np.abs(r[k][()]).max() > 0 for k in ['/object', '/probe', '/error'])))")"
PTYCHO_STAGE_DELAY=2 "$PTYCHO" recon --backend cpu --threads 1 --quiet s.cxi --output killed --iterations 400 >/dev/null 2>&1 &
victim=$!
sleep 0.5
kill -9 $victim
wait $victim
recon s.cxi --output killed --iterations 5 && [ -s killed.h5 ] &&
  pass "a run killed with SIGKILL leaves no claim: the next run with its --output works" || fail "after SIGKILL"

# 2. an output that is an input
cp s.cxi scan.h5
sum=$(md5sum <scan.h5)
expect_error "--output whose .h5 is the input" "'scan.h5' is an input of this run" recon --input scan.h5 --output scan
expect_error "--output whose .h5 is the input, spelled another way" "is an input of this run" \
  recon --input scan.h5 --output "$PWD/./scan"
ln scan.h5 linked.h5
expect_error "--output whose .h5 is a hard link to the input" "'linked.h5' is an input of this run" \
  recon --input scan.h5 --output linked
ln -s scan.h5 symlinked.h5
expect_error "--output whose .h5 is a symbolic link to the input" "'symlinked.h5' is an input of this run" \
  recon --input scan.h5 --output symlinked
[ "$(md5sum <scan.h5)" = "$sum" ] && pass "the input is unchanged" || fail "the input changed"
recon s.cxi --output part0 --iterations 5 --no-tiff && recon s.cxi --output part1 --iterations 5 --no-tiff
sum=$(md5sum <part0.h5)
expect_error "stitch onto one of its parts" "'part0.h5' is an input of this run" \
  "$PTYCHO" stitch part0.h5 part1.h5 --output part0 --stitch-max-shift 20
[ "$(md5sum <part0.h5)" = "$sum" ] && pass "the part is unchanged" || fail "the part changed"

# 6. a full disk: the .h5 fits, the images do not
mkdir -p disk
trap 'umount disk 2>/dev/null' EXIT
if mount -t tmpfs -o size=300k tmpfs disk 2>/dev/null; then
  recon s.cxi --output whole --iterations 5 || fail "reference run"
  h5=$(stat -c %s whole.h5)
  umount disk && mount -t tmpfs -o size=$((h5 / 1024 + 24))k tmpfs disk
  recon s.cxi --output disk/r --iterations 5 >full.txt 2>full.err
  rc=$?
  check "a disk that holds the .h5 but not the images: exit status" "x == 1" "$rc"
  grep -qE "no space left on the device|No space left on device|disk full" full.err &&
    pass "full disk: $(cat full.err)" || { fail "full disk message"; cat full.err; }
  empty_of_results disk && pass "full disk: nothing left" || fail "full disk: files left"
  umount disk
else
  echo "SKIPPED  a full disk: cannot mount a tmpfs here (needs root)"
fi

# 6. a signal while the result is being written
for sig in TERM INT; do
  mkdir -p "sig$sig"
  PTYCHO_STAGE_DELAY=1 "$PTYCHO" recon --backend cpu --threads 1 --quiet s.cxi --output "sig$sig/r" --iterations 5 \
    >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 200); do ls "sig$sig" | grep -q '\.tmp' && break; sleep 0.05; done
  kill -"$sig" $pid
  wait $pid
  rc=$?
  check "SIG$sig while writing: the process dies of it" "x == y" "$rc" "$((128 + $(kill -l $sig)))"
  empty_of_results "sig$sig" && pass "SIG$sig while writing: nothing left" || fail "SIG$sig: files left"
done

# a file-size limit below the result (SIGXFSZ ignored: the write fails with a message)
mkdir -p limit
(ulimit -f 16 && recon s.cxi --output limit/r --iterations 5 >limit.txt 2>limit.err)
rc=$?
check "a file-size limit below the result: exit status" "x == 1" "$rc"
grep -q "ptycho: error: .*file too large for this process's file-size limit" limit.err &&
  pass "file-size limit: $(cat limit.err)" || { fail "file-size limit message"; cat limit.err; }
empty_of_results limit && pass "file-size limit: nothing left" || fail "file-size limit: files left"
finish
