# mpi_follow.sh - `ptycho recon --follow` on 4 ranks in sync mode (issue 14, several ranks): the
#   independent simulator's 20x20 scan of 64^2 frames replayed at 200 Hz while 4 ranks follow it, each
#   taking the arriving frames of its block of the planned scan; the merged result is within 10 % of
#   the NRMSE of an offline sync run on 4 ranks with the same iterations; refusals: async mode, and a
#   file without the planned positions (the blocks cannot be cut ahead).
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mpi_common.sh"
need_numpy
INDEP="$(dirname "$0")/../indep/indep_sim.py"
"$PY" "$INDEP" scan.cxi --rows 20 --cols 20 --frame 64 --jitter 1 --seed 3 --photons 1e6 --poisson >/dev/null ||
  fail "simulator"
nrmse() { "$PTYCHO" compare "$1" scan.cxi 2>/dev/null | awk '$1 == "nrmse" { print $2 }'; }

mpi_recon 4 scan.cxi --output off --iterations 60 --mpi-mode sync --seed 1 --quiet --no-tiff || fail "offline recon"
off=$(nrmse off.h5)
"$PTYCHO" replay --input scan.cxi --output scan_live.h5 --rate 200 --quiet &
writer=$!
mpi_recon 4 --follow scan_live.h5 --output live --mpi-mode sync --final-iterations 60 --follow-timeout 20 \
  --preview-every 0.5 --seed 1 >follow.txt 2>follow.err
rc=$?
wait $writer
sed 's/^/    /' follow.txt follow.err
check "4 ranks follow: exit status" "x == 0" "$rc"
check "4 ranks follow: one progress header (rank 0 alone prints)" "x == 1" "$(grep -c '^ptycho recon --follow' follow.txt)"
check "4 ranks follow: final NRMSE within 10 % of an offline sync run on 4 ranks" "x <= 1.10 * y" "$(nrmse live.h5)" "$off"
check "4 ranks follow: the preview shows the merged object (as wide as the result)" "x == 1" "$("$PY" -c "
import json, h5py, struct
s = json.load(open('live_live/status.json'))
w = h5py.File('live.h5', 'r')['/object'].shape[1]
png = open('live_live/object_phase.png', 'rb').read()
print(int(s['state'] == 'done' and struct.unpack('>I', png[16:20])[0] == w))")"

"$PTYCHO" replay --input scan.cxi --output hidden.h5 --rate 100000 --hide-plan --quiet
expect_error "4 ranks follow a file without planned positions" "does not state the planned positions" \
  mpi_recon 4 --follow hidden.h5 --output out/x --mpi-mode sync --follow-timeout 5
expect_error "4 ranks follow in async mode" "--follow on several ranks runs in sync mode" \
  mpi_recon 4 --follow scan_live.h5 --output out/x --mpi-mode async --follow-timeout 5
finish
