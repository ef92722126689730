# eiger.sh - a detector's own files (issue 16): an Eiger/Velociprobe-style master whose frames are
# external links to two data files, bitshuffle/LZ4-compressed, on a 104x120 detector with the beam
# off its middle and NeXus metadata (eV, m, beam_center_x/y), with positions in a CSV of triggers,
# all written by tests/indep/eiger_write.py from a scan of the independent simulator:
#   - --crop 64 around the file's beam centre reconstructs the scan as its CXI does (NRMSE within
#     1 %), and bit for bit when both are given the same geometry and positions; the compressed
#     master gives the uncompressed one's object bit for bit;
#   - a detector gap (pixel_mask, overflow counts) and two triggers the position recorder missed,
#     rows shuffled: the two frames are named and left out, the rest matched by trigger;
#   - positions from a second HDF5 file (the CXI's translation) match the CSV's;
#   - a data file missing, run from another directory: one message naming the link and the file;
#     the compression plugin out of reach: one message naming the filter.
. "$(dirname "$0")/common.sh"
need_numpy
INDEP="$(dirname "$0")/../indep"
plugins=
for d in /usr/lib/*/hdf5/serial/plugins /usr/lib/hdf5/plugins; do [ -e "$d/libh5bshuf.so" ] && plugins=$d; done
if [ -z "$plugins" ]; then
  echo "SKIPPED: no bitshuffle HDF5 plugin (scripts/install-deps.sh installs hdf5-filter-plugin and bitshuffle)"
  exit 77
fi
"$PY" "$INDEP/indep_sim.py" scan.cxi --rows 12 --cols 12 --frame 64 --jitter 1 --seed 3 --photons 1e6 --poisson \
  >/dev/null || fail "simulator"
"$PY" "$INDEP/eiger_write.py" scan.cxi e >/dev/null && "$PY" "$INDEP/eiger_write.py" scan.cxi raw --no-compress >/dev/null &&
  "$PY" "$INDEP/eiger_write.py" scan.cxi g --gap --drop 5 77 --shuffle-rows >/dev/null || fail "eiger_write"
# one FFT wisdom file: timed plans could otherwise differ between runs in their last bits
common=(--backend cpu --threads 1 --seed 1 --iterations 40 --quiet --no-tiff --fft-wisdom plans.fftw)
eiger=(--crop 64 --positions-file e_positions.csv --trigger-column trigger --first-trigger 1)
nrmse() { "$PTYCHO" compare "$1" scan.cxi 2>/dev/null | awk '$1 == "nrmse" { print $2 }'; }

"$PTYCHO" recon scan.cxi --output ref "${common[@]}" || fail "recon of the CXI"
env -u HDF5_PLUGIN_PATH "$PTYCHO" recon e_master.h5 "${eiger[@]}" --output e "${common[@]}" 2>e.err ||
  { fail "recon of the master"; cat e.err; }
"$PTYCHO" recon raw_master.h5 "${eiger[@]}" --output raw "${common[@]}" || fail "recon of the uncompressed master"
check "Eiger master (2 compressed data files, crop around beam_center) vs its CXI: NRMSE within 1 %" \
  "x <= 1.01 * y && x >= 0.99 * y" "$(nrmse e.h5)" "$(nrmse ref.h5)"
check "compressed and uncompressed masters give the same object, bit for bit" "x == 1" "$("$PY" -c "
import h5py, numpy as np
print(int(np.array_equal(h5py.File('e.h5', 'r')['/object'][()], h5py.File('raw.h5', 'r')['/object'][()])))")"
check "the result records the window and where its centre came from" "x == 1" "$("$PY" -c "
import h5py
a = h5py.File('e.h5', 'r')['/detector_preparation'].attrs
s = lambda v: v.decode() if isinstance(v, bytes) else v
print(int(a['detector_height'] == 104 and a['detector_width'] == 120 and a['centre_row'] == 59 and
          a['centre_col'] == 55 and a['window_first_row'] == 27 and 'beam_center_y' in s(a['centre_from'])))")"

"$PTYCHO" recon g_master.h5 --crop 64 --positions-file g_positions.csv --trigger-column trigger --first-trigger 1 \
  --output g "${common[@]}" 2>g.err || { fail "recon with a gap and dropped triggers"; cat g.err; }
grep -qF "'g_positions.csv': 2 of 144 frames have no position (frames 5, 77" g.err ||
  { fail "the two frames without a position are named"; cat g.err; }
check "gap and 2 dropped triggers: 142 positions in the result" "x == 142" \
  "$("$PY" -c "import h5py; print(len(h5py.File('g.h5', 'r')['/positions_px']))")"
check "gap and 2 dropped triggers: NRMSE within 10 % of the CXI's" "x <= 1.10 * y" "$(nrmse g.h5)" "$(nrmse ref.h5)"
check "shuffled rows matched by trigger: the positions are the full scan's without frames 5 and 77" "x == 1" "$("$PY" -c "
import h5py, numpy as np
a = np.delete(h5py.File('e.h5', 'r')['/positions_px'][()], [5, 77], axis=0)
print(int(np.allclose(a, h5py.File('g.h5', 'r')['/positions_px'][()], atol=1e-9)))")"

"$PTYCHO" recon e_master.h5 --crop 64 --positions-file scan.cxi --output h "${common[@]}" ||
  fail "positions from a second HDF5 file"
# the same numbers in: the CXI's geometry given to both, positions from the CXI itself
same=(--energy "$("$PY" -c "import h5py; print('%.17g' % (h5py.File('scan.cxi', 'r')['/entry_1/instrument_1/source_1/energy'][()] / 1.602176634e-19))")"
      --distance "$("$PY" -c "import h5py; print('%.17g' % h5py.File('scan.cxi', 'r')['/entry_1/instrument_1/detector_1/distance'][()])")"
      --pixel-size "$("$PY" -c "import h5py; print('%.17g' % h5py.File('scan.cxi', 'r')['/entry_1/instrument_1/detector_1/x_pixel_size'][()])")")
"$PTYCHO" recon scan.cxi "${same[@]}" --output ref2 "${common[@]}" &&
  "$PTYCHO" recon e_master.h5 --crop 64 --positions-file scan.cxi "${same[@]}" --output e2 "${common[@]}" ||
  fail "recon with the same geometry"
check "with the same geometry and positions, master and CXI give the same object, bit for bit" "x == 1" "$("$PY" -c "
import h5py, numpy as np
print(int(np.array_equal(h5py.File('ref2.h5', 'r')['/object'][()], h5py.File('e2.h5', 'r')['/object'][()])))")"
check "positions from the CXI (a second HDF5 file) equal the CSV's (um, 12 digits)" "x == 1" "$("$PY" -c "
import h5py, numpy as np
a, b = (h5py.File(f + '.h5', 'r')['/positions_px'][()] for f in 'eh')
print(int(np.allclose(a, b, atol=1e-6)))")"

mkdir -p part other && cp e_master.h5 e_data_000001.h5 part/
cd other && expect_error "a data file missing" \
  "'../part/e_master.h5': cannot open frames '/entry/data/data_000002' ('/entry/data/data_000002' is an external link to '/entry/data/data' in '../part/e_data_000002.h5', which cannot be opened (missing?))" \
  "$PTYCHO" recon ../part/e_master.h5 "${eiger[@]/e_positions.csv/../e_positions.csv}" --output out/x
cd ..
mkdir -p noplugins
HDF5_PLUGIN_PATH=$PWD/noplugins expect_error "the compression plugin out of reach" \
  "'e_master.h5': cannot read '/entry/data/data_000001': it is compressed with HDF5 filter 32008 (bitshuffle" \
  "$PTYCHO" recon e_master.h5 "${eiger[@]}" --output out/x
finish
