# compressed.sh - detector frames compressed with bitshuffle/LZ4 (HDF5 filter 32008, as Eiger and
# Velociprobe files store them; issue 16, first step): read through Debian's filter plugins
# (hdf5-filter-plugin, bitshuffle) without HDF5_PLUGIN_PATH, they reconstruct to exactly the
# object of the same scan uncompressed; with the plugin out of reach, one message names the filter,
# the dataset and the packages.
. "$(dirname "$0")/common.sh"
need_numpy
"$PTYCHO" simulate --output s.cxi --rows 8 --cols 8 --step 6 --frame 32 --seed 4 >/dev/null || exit 1
plugins=
for d in /usr/lib/*/hdf5/serial/plugins /usr/lib/hdf5/plugins; do [ -e "$d/libh5bshuf.so" ] && plugins=$d; done
if [ -z "$plugins" ]; then
  echo "SKIPPED: no bitshuffle HDF5 plugin (scripts/install-deps.sh installs hdf5-filter-plugin and bitshuffle)"
  exit 77
fi
HDF5_PLUGIN_PATH=$plugins "$PY" - <<'PY' || fail "writing the compressed copy"
import h5py, shutil
shutil.copy('s.cxi', 'c.cxi')
f = h5py.File('c.cxi', 'r+')
path = '/entry_1/data_1/data'
link = f.get(path, getlink=True)
target = link.path if isinstance(link, h5py.SoftLink) else path
a = f[target][()]
del f[target]
f.create_dataset(target, data=a, chunks=(1,) + a.shape[1:], compression=32008, compression_opts=(0, 2))
f.close()
assert h5py.File('c.cxi', 'r')[target].id.get_create_plist().get_filter(0)[0] == 32008
PY
recon() { env -u HDF5_PLUGIN_PATH "$PTYCHO" recon --backend cpu --threads 1 --quiet --no-tiff --iterations 5 "$@"; }
recon s.cxi --output plain && recon c.cxi --output packed || fail "recon"
check "bitshuffle/LZ4 frames reconstruct to the uncompressed scan's object, bit for bit" "x == 1" "$("$PY" -c "
import h5py, numpy as np
print(int(np.array_equal(h5py.File('plain.h5', 'r')['/object'][()], h5py.File('packed.h5', 'r')['/object'][()])))")"
mkdir -p noplugins
HDF5_PLUGIN_PATH=$PWD/noplugins expect_error "frames whose filter plugin is out of reach" \
  "it is compressed with HDF5 filter 32008 (bitshuffle" "$PTYCHO" recon c.cxi --output out/x --iterations 5
grep -qF "install its plugin (Debian: hdf5-filter-plugin and bitshuffle" stderr.txt || { fail "the advice"; cat stderr.txt; }
finish
