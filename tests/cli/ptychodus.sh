# ptychodus.sh - results other tools open (issue 16): --ptychodus writes PREFIX_product.h5 in
# ptychodus's product layout; ptycho reads it back (--init-from) to the same start as its own
# result (the runs from either are bit for bit the same: the object lands on the same pixels);
# ptychodus's own reader (PTYCHODUS_PYTHON, python3 importing ptychodus, or ptychodus 1.7.0
# pip-installed into a venv here where PyPI answers) opens it and places the first probe window
# on the object pixels ptycho used; without any of them that part is skipped.
. "$(dirname "$0")/common.sh"
need_numpy
"$PY" "$(dirname "$0")/../indep/indep_sim.py" scan.cxi --rows 10 --cols 10 --frame 64 --jitter 1 --seed 2 \
  --photons 1e6 --poisson >/dev/null || fail "simulator"
common=(--backend cpu --threads 1 --seed 1 --quiet --no-tiff --fft-wisdom plans.fftw)
"$PTYCHO" recon scan.cxi --output a --iterations 20 --ptychodus "${common[@]}" || fail "recon --ptychodus"
check "the product holds the object (1, H, W), probe (1, K, M, M), 100 positions in metres, both energy keys" "x == 1" \
  "$("$PY" -c "
import h5py, numpy as np
p, r = h5py.File('a_product.h5', 'r'), h5py.File('a.h5', 'r')
o, pr = p['object'], p['probe']
ok = o.shape == (1,) + r['object'].shape and pr.shape == (1,) + r['probe'].shape and np.array_equal(o[0], r['object'][()])
ok &= len(p['probe_position_x_m']) == 100 and p.attrs['photon_energy_eV'] == p.attrs['probe_energy_eV'] > 0
ok &= np.allclose(p['probe_position_x_m'][()], r['positions_px'][:, 1] * r['pixel_size'][()])
ok &= len(p['loss_values']) == 20 and p.attrs['detector_object_distance_m'] > 0
print(int(ok))")"
"$PTYCHO" recon scan.cxi --output from_result --iterations 10 --init-from a.h5 "${common[@]}" || fail "--init-from a.h5"
"$PTYCHO" recon scan.cxi --output from_product --iterations 10 --init-from a_product.h5 "${common[@]}" ||
  fail "--init-from a_product.h5"
check "--init-from the product and from the result: the same object, bit for bit" "x == 1" "$("$PY" -c "
import h5py, numpy as np
print(int(np.array_equal(h5py.File('from_result.h5', 'r')['/object'][()], h5py.File('from_product.h5', 'r')['/object'][()])))")"

pyd=${PTYCHODUS_PYTHON:-}
[ -z "$pyd" ] && python3 -c "import ptychodus" 2>/dev/null && pyd=python3
if [ -z "$pyd" ] && [ -z "${PTYCHO_NO_NETWORK:-}" ]; then
  # where PyPI answers: ptychodus 1.7.0 and what its product reader imports, in a venv here (about 25 s)
  if timeout 300 python3 -m venv venv >/dev/null 2>&1 &&
    timeout 300 venv/bin/pip install -q --timeout 10 --retries 1 --no-deps ptychodus==1.7.0 >pip.log 2>&1 &&
    timeout 300 venv/bin/pip install -q --timeout 10 --retries 1 h5py numpy scipy scikit-image pydantic lazy_loader \
      >>pip.log 2>&1 && venv/bin/python -c "from ptychodus.api.io import load_product" 2>>pip.log; then
    pyd=venv/bin/python
  fi
fi
if [ -z "$pyd" ]; then
  echo "SKIPPED  ptychodus's own reader: no Python with ptychodus, and pip could not install it here" \
    "(set PTYCHODUS_PYTHON to one)"
  tail -2 pip.log 2>/dev/null | sed 's/^/    /'
else
  check "ptychodus's load_product opens it and puts probe 0 on ptycho's window (its centre (M-1)/2 = ours - 1/2)" \
    "x == 1" "$("$pyd" -c "
import h5py, numpy as np
from ptychodus.api.io import load_product
p = load_product('a_product.h5')
g = p.object_.get_geometry()
q = g.map_coordinates_probe_to_object(list(p.probe_positions)[0])
r = h5py.File('a.h5', 'r')
row, col = r['object_position_origin'][()] + r['positions_px'][0]
print(int(abs(q.y_px - (row - 0.5)) < 1e-6 and abs(q.x_px - (col - 0.5)) < 1e-6 and
          p.object_.get_array().shape[-2:] == r['object'].shape))")"
fi
finish
