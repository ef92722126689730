# faults_messages.sh - messages that say what is wrong (issue 15, class 7), each naming the file,
# link or stream and the real reason:
#   a file another program holds open for writing; a pipe given as the input; a frames dataset
#   that is an external link to a missing file; a stitch part whose object is not finite; more
#   --threads than a process limit lets start;
#   and what simply works: a boolean mask as numpy/h5py write it, and standard output closed by
#   its reader (| head): the run goes on, writes its files, exits 0 and says so once.
. "$(dirname "$0")/common.sh"
need_numpy
"$PTYCHO" simulate --output s.cxi --rows 8 --cols 8 --step 6 --frame 32 --seed 4 >/dev/null || exit 1
recon() { "$PTYCHO" recon --backend cpu --threads 1 --quiet --no-tiff --iterations 5 "$@"; }

cp s.cxi held.h5
"$PY" -c "
import h5py, time, os
f = h5py.File('held.h5', 'a')
open('held.ready', 'w').close()
while os.path.exists('held.ready'): time.sleep(0.05)
" &
holder=$!
for _ in $(seq 100); do [ -e held.ready ] && break; sleep 0.05; done
expect_error "a file another program is writing" "'held.h5' is locked by another program that is writing it" \
  recon held.h5 --output out/x
rm -f held.ready
wait $holder

mkfifo pipe.h5
expect_error "a pipe as the input" "'pipe.h5' is a pipe, not a file" recon pipe.h5 --output out/x

cp s.cxi linked.cxi
"$PY" -c "
import h5py
f = h5py.File('linked.cxi', 'r+')
link = f.get('/entry_1/data_1/data', getlink=True)
target = link.path if isinstance(link, h5py.SoftLink) else '/entry_1/data_1/data'
del f[target]
f[target] = h5py.ExternalLink('gone.h5', '/data')"
expect_error "frames behind an external link to a missing file" \
  "is an external link to '/data' in 'gone.h5', which cannot be opened (missing?)" recon linked.cxi --output out/x

cp s.cxi boolmask.cxi
"$PY" -c "
import h5py, numpy as np
f = h5py.File('boolmask.cxi', 'r+')
m = f['/entry_1/data_1/data'].shape[1]
mask = np.zeros((m, m), dtype=bool)
mask[3, 4] = True
f['/entry_1/instrument_1/detector_1/mask'] = mask"
recon boolmask.cxi --output boolmask 2>bool.err && pass "a numpy boolean mask is read" ||
  { fail "a numpy boolean mask"; cat bool.err; }

"$PTYCHO" recon s.cxi --output piped --iterations 30 --backend cpu --threads 1 --no-tiff 2>piped.err | head -1 >/dev/null
rc=${PIPESTATUS[0]}
check "standard output closed by its reader: the run exits 0" "x == 0" "$rc"
[ -s piped.h5 ] && grep -q "standard output was closed before the end" piped.err &&
  pass "standard output closed: files written, one warning" || { fail "standard output closed"; cat piped.err; }

recon s.cxi --output p1 && recon s.cxi --output p2 --seed 2
"$PY" -c "
import h5py, numpy as np
f = h5py.File('p2.h5', 'r+')
o = f['/object'][()]
o[3, 3] = complex(np.nan, 0)
f['/object'][...] = o" || fail "making a part with a NaN"
expect_error "a stitch part that is not finite" "'p2.h5': the object is not finite at pixel (3, 3)" \
  "$PTYCHO" stitch p1.h5 p2.h5 --output out/s

# more threads than the system lets start: ptycho's message, not libgomp's (needs a user the
# process limit applies to: root is exempt, so the check runs as nobody)
nobody_runs() { setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$PTYCHO" 2>/dev/null; }
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && ! nobody_runs; then
  echo "SKIPPED  --threads beyond a process limit: user nobody cannot reach $PTYCHO (a directory above it is private)"
elif [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  mkdir -p nobody && chmod 777 nobody && cp s.cxi nobody/ && chmod 644 nobody/s.cxi
  (cd nobody && setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
    "ulimit -u 4; '$PTYCHO' recon s.cxi --output r --iterations 3 --threads 16 --backend cpu --quiet" \
    >../threads.txt 2>../threads.err)
  rc=$?
  check "--threads beyond what the system can start: exit status" "x == 1" "$rc"
  grep -q "ptycho: error: --threads 16: this system lets ptycho start only" threads.err &&
    ! grep -q libgomp threads.err && pass "--threads beyond the limit: $(cat threads.err)" ||
    { fail "--threads beyond the limit: message"; cat threads.err; }
else
  echo "SKIPPED  --threads beyond a process limit: needs root and setpriv to run as another user"
fi
finish
