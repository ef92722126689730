#!/usr/bin/env bash
# merge_bench.sh - what the multi-rank modes cost beyond the reconstruction (issue 17): the
# asynchronous merge's seconds per round and the synchronous share's bytes, on CPU ranks.
#
#   scripts/merge_bench.sh [--input FILE] [--ranks "4 16"] [--iterations N] [--modes "async sync"]
#                          [--ptycho PATH]...
#
# Without --input it simulates the seed case (175 x 120 positions of 256^2, 5.5 GB of frames:
# 24 GiB of memory and ~6 GB of disk under $TMPDIR) once.  Each --ptycho (default build/ptycho;
# give several to compare builds) runs `mpirun -n P ptycho recon --mpi-mode MODE` for each P, one
# thread a rank.  A line per run: the async merge's seconds in each round of the tree (the slowest
# merge of the round, from the result's /mpi/merges/seconds; a result without that column gives
# rank 0's total merge seconds, /mpi/rank_merge_s, instead) and the sync share's bytes sent and
# bytes of object copied out of and back into the plan per share by rank 0 (/mpi/bytes_per_share,
# /mpi/bytes_copied_per_share).  Timing only: nothing here passes or fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
input="" ranks="4 16" iterations=1 modes="async" ptychos=()
while [ $# -gt 0 ]; do
  case $1 in
    --input) input=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --ptycho) ptychos+=("$(realpath "$2")"); shift 2 ;;
    *) echo "merge_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#ptychos[@]} -gt 0 ] || ptychos=("$here/build/ptycho")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$input" ]; then
  input=$work/seed.cxi
  "${ptychos[0]}" simulate --output "$input" --rows 175 --cols 120 --frame 256 --step 0 --seed 1 >/dev/null
fi
report() { # RESULT.h5 LABEL
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
label, m = sys.argv[2], f["/mpi"]
if m["mode"][()].decode() == "async":
    if "merges/seconds" in m:
        into, frm, sec = m["merges/into"][:], m["merges/from"][:], m["merges/seconds"][:]
        rounds = np.log2(frm - into).astype(int)
        per = [sec[rounds == k].max() for k in range(rounds.max() + 1)]
        print(f"{label}: merge seconds per round " + ", ".join(f"{s:.2f}" for s in per) +
              f" (total {sum(per):.2f}; rank 0's merges {m['rank_merge_s'][0]:.2f})")
    else:
        print(f"{label}: merge seconds on rank 0, all rounds {m['rank_merge_s'][0]:.2f}")
else:
    box = m["rank_box"][0]  # row, col, h, w: before strips, the whole box went out and back in
    print(f"{label}: {m['bytes_per_share'][()] / 1e6:.2f} MB sent per share by rank 0" +
          (f", {m['bytes_copied_per_share'][()] / 1e6:.2f} MB of object copied out of and into its plan"
           if "bytes_copied_per_share" in m else "") +
          f" (its whole {int(box[2])} x {int(box[3])} box out and in: {2 * 8 * box[2] * box[3] / 1e6:.2f} MB)")
EOF
}
for p in $ranks; do
  for mode in $modes; do
    for ptycho in "${ptychos[@]}"; do
      mpirun -n "$p" --oversubscribe "$ptycho" recon "$input" --output "$work/r" --mpi-mode "$mode" \
        --iterations "$iterations" --threads 1 --backend cpu --quiet --no-tiff >"$work/log" 2>&1 ||
        { cat "$work/log"; exit 1; }
      report "$work/r.h5" "$ptycho, $p ranks, $mode"
      rm -f "$work/r.h5"
    done
  done
done
