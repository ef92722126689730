#!/usr/bin/env bash
# make_data.sh - regenerate the project's own small data (data/README.md).
# Needs python3 with numpy and h5py (scripts/install-deps.sh installs them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
# A scan no ptycho code made: the independent numpy simulator (tests/indep/),
# a defocused lens whose beam fills 80 % of the window (the probe beamlines
# have), continuous positions, Poisson counts (1e6 photons a frame), no probe
# in the file.  10 x 10 positions of 64 x 64 frames, 0.6 MB gzip'ed.
"$py" "$here/../tests/indep/indep_sim.py" "$here/indep_defocus_64.cxi" --frame 64 --rows 10 --cols 10 --fill 0.8 \
  --poisson --photons 1e6 --seed 21 --probe-guess none
